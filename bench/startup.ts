/**
 * Start-up: `plexctl --help` (commander and the command list, nothing else) and `plexctl -i
 * examples/demo/plex.yaml validate` (plus yaml and the inventory modules) on the 3-group demo
 * inventory, each run paired with a `node -e 0` floor sample taken just before it. What these
 * cost over the floor is what every command pays before doing its own work. bin/plexctl.js runs
 * the bundle `npm run build` made, with its code cache: the result says whether V8 took the
 * cache, since without it these figures are not the ones users get.
 */
import { join } from 'node:path';
import load from '../src/bundle/load.cjs';
import { repeat, type Measure } from './lib/measure.js';
import { Floor, repoRoot, timedPlexctl } from './lib/util.js';

export interface StartupResult {
  help: Measure;
  validate: Measure;
  /** How bin/plexctl.js started: the bundle with its code cache 'accepted' (or why not), or 'no bundle'. */
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
  const codeCache = load.loadBundledCli(join(repoRoot, 'dist'))?.codeCache ?? 'no bundle';
  return { help, validate, codeCache };
}
