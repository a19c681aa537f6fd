/**
 * Start-up: `plexctl --help` (commander and the command list, nothing else) and `plexctl -i
 * examples/demo/plex.yaml validate` (plus yaml and the inventory modules) on the 3-group demo
 * inventory, each run paired with a `node -e 0` floor sample taken just before it. What these
 * cost over the floor is what every command pays before doing its own work. bin/plexctl.js runs
 * the bundle `npm run build` made, with its code cache: the result says whether V8 took the
 * cache, since without it these figures are not the ones users get.
 */
import { join } from 'node:path';
import { repeat, type Measure } from './lib/measure.js';
import { Floor, repoRoot, timedPlexctl } from './lib/util.js';

export interface StartupResult {
  help: Measure;
  validate: Measure;
  /** How bin/plexctl.js started, as it reports it: `bundle, code cache accepted` (or why not), or `modules (...)`. */
  codeCache?: string;
}

export const demoInventory = join('examples', 'demo', 'plex.yaml');

export async function startupBench(floor: Floor, reps: number, capMs: number): Promise<StartupResult> {
  const help = await repeat('plexctl --help', floor, () => timedPlexctl(['--help'], { cwd: repoRoot }), {
    reps,
    capMs,
    check: (run) => {
      if (run.exitCode !== 0) throw new Error(`plexctl --help exited ${run.exitCode}`);
    },
  });
  const validate = await repeat(`plexctl -i ${demoInventory} validate`, floor, () => timedPlexctl(['-i', demoInventory, 'validate'], { cwd: repoRoot }), {
    reps,
    capMs,
    check: (run) => {
      if (run.exitCode !== 0 || !run.stdout.includes(': valid (')) throw new Error(`validate exited ${run.exitCode}:\n${run.stdout}${run.stderr}`);
    },
  });
  // As the timed runs started (bin/plexctl.js says so when asked).
  const report = await timedPlexctl(['--help'], { cwd: repoRoot, env: { ...process.env, PLEXCTL_INVENTORY: '', PLEXCTL_STARTUP_REPORT: '1' } });
  const codeCache = /^plexctl-startup: (.+)$/m.exec(report.stderr)?.[1] ?? 'not reported';
  return { help, validate, codeCache };
}
