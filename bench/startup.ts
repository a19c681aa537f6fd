/**
 * Start-up: `plexctl --help` (commander and the command list, nothing else) and `plexctl -i
 * examples/demo/plex.yaml validate` (plus yaml and the inventory modules) on the 2-group demo
 * inventory, each run paired with a `node -e 0` floor sample taken just before it. What these
 * cost over the floor is what every command pays before doing its own work.
 */
import { join } from 'node:path';
import { repeat, type Measure } from './lib/measure.js';
import { Floor, repoRoot, timedPlexctl } from './lib/util.js';

export interface StartupResult {
  help: Measure;
  validate: Measure;
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
  return { help, validate };
}
