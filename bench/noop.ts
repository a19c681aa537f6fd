/**
 * `plexctl plan` and `plexctl reconcile` with nothing to do, on an inventory already rendered.
 * No Apache runs: the inventory's pid_file never exists, so reconcile reads the files, the
 * process list and user_file, finds nothing to do, and signals nothing. With a live Apache it
 * would also look at each group's daemons in /proc.
 */
import { join } from 'node:path';
import { repeat, type Measure } from './lib/measure.js';
import { Floor, timedPlexctl } from './lib/util.js';

export interface NoopResult {
  users: number;
  groups: number;
  plan: Measure;
  reconcile: Measure;
  /** `plexctl --help`: starting the CLI and loading its modules, nothing else. */
  help: Measure;
  note: string;
}

export async function noopCommands(dir: string, users: number, groups: number, floor: Floor, reps: number, capMs: number): Promise<NoopResult> {
  const file = join(dir, 'plex.yaml');
  const label = `${users} users / ${groups} groups`;
  const plan = await repeat(`plan, nothing to do, ${label}`, floor, () => timedPlexctl(['-i', file, 'plan'], { cwd: dir, timeoutMs: 120000 }), {
    reps,
    capMs,
    check: (run) => {
      if (run.exitCode !== 0) throw new Error(`plan exited ${run.exitCode} (0 = nothing to do):\n${run.stdout.slice(0, 1500)}${run.stderr.slice(0, 1500)}`);
    },
  });
  const reconcile = await repeat(
    `reconcile, nothing to do, ${label}`,
    floor,
    () => timedPlexctl(['-i', file, 'reconcile'], { cwd: dir, timeoutMs: 120000 }),
    {
      reps,
      capMs,
      check: (run) => {
        if (run.exitCode !== 0 || !run.stdout.includes('Nothing to do')) {
          throw new Error(`reconcile did not find nothing to do (exit ${run.exitCode}):\n${run.stdout.slice(0, 1500)}${run.stderr.slice(0, 1500)}`);
        }
      },
    },
  );
  const help = await repeat('plexctl --help', floor, () => timedPlexctl(['--help'], { cwd: dir }), {
    reps,
    capMs,
    check: (run) => {
      if (run.exitCode !== 0) throw new Error(`plexctl --help exited ${run.exitCode}`);
    },
  });
  return { users, groups, plan, reconcile, help, note: 'without a live Apache (pid_file does not exist): reconcile compares files only' };
}
