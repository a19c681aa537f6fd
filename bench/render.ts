/**
 * `plexctl render` at U users over G groups, through the real CLI process:
 *   (a) first render into an empty directory (every file created and fsynced);
 *   (b) a render after one user's change: user000000 moves between django1 and django2, so only
 *       procmap.txt changes (checked from `render --json`).
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { groupName, inventoryText, userName } from './lib/inventory.js';
import { repeat, type Measure } from './lib/measure.js';
import { Floor, makeTempDir, timedPlexctl, type TimedRun } from './lib/util.js';

export interface RenderCell {
  users: number;
  groups: number;
  first: Measure;
  change?: Measure;
  /** Why (b) was not measured. */
  changeSkipped?: string;
  /** The inventory directory, kept for later phases (the caller removes it). */
  dir: string;
}

export interface RenderCellOptions {
  reps: number;
  /** Time limit of one render run. */
  timeoutMs: number;
  /** Stop repeating a measurement once its runs took this long. */
  capMs: number;
  /** Measure (b) only when (a)'s median is below this. */
  changeIfFirstBelowMs: number;
}

interface RenderJson {
  changed: { action: string; kind: string; path: string }[];
}

function parseChanges(run: TimedRun): RenderJson['changed'] {
  if (run.exitCode !== 0) throw new Error(`render exited ${run.exitCode}: ${run.stderr.slice(0, 2000)}`);
  return (JSON.parse(run.stdout) as RenderJson).changed;
}

export async function renderCell(users: number, groups: number, floor: Floor, options: RenderCellOptions): Promise<RenderCell> {
  const dir = await makeTempDir(`plexctl-bench-render-${users}u-${groups}g-`);
  const file = join(dir, 'plex.yaml');
  let text = inventoryText({ users, groups, served: false, shared: true });
  await writeFile(file, text);
  const render = () => timedPlexctl(['-i', file, 'render', '--json'], { cwd: dir, timeoutMs: options.timeoutMs });
  const label = `${users} users / ${groups} groups`;

  const first = await repeat(`first render, ${label}`, floor, render, {
    reps: options.reps,
    capMs: options.capMs,
    before: () => rm(join(dir, 'build'), { recursive: true, force: true }),
    check: (run) => {
      const changed = parseChanges(run);
      // plex.conf, site.wsgi, one script per group, procmap.txt
      if (changed.length !== groups + 3 || changed.some((c) => c.action !== 'create')) {
        throw new Error(`first render of ${label} did not create ${groups + 3} files: ${JSON.stringify(changed).slice(0, 500)}`);
      }
    },
  });
  const cell: RenderCell = { users, groups, first, dir };
  if (first.timedOut) {
    cell.changeSkipped = `the first render was killed at its ${Math.round(options.timeoutMs / 1000)} s limit`;
    return cell;
  }
  if (first.wallMs.median >= options.changeIfFirstBelowMs) {
    cell.changeSkipped = `the first render took ${(first.wallMs.median / 1000).toFixed(0)} s; a render after one change parses the same inventory (see the profile in README.md)`;
    return cell;
  }

  // user000000 is in django1; it moves to django2 and back, one move per run.
  const mover = userName(0);
  const lineIn = (g: number) => `\n  ${mover}: ${groupName(g)}\n`;
  cell.change = await repeat(`render after one user's change, ${label}`, floor, render, {
    reps: options.reps,
    capMs: options.capMs,
    before: async (rep) => {
      const [from, to] = rep % 2 === 0 ? [1, 2] : [2, 1];
      if (!text.includes(lineIn(from))) throw new Error(`bench: ${mover} is not in ${groupName(from)} in ${file}`);
      text = text.replace(lineIn(from), lineIn(to));
      await writeFile(file, text);
    },
    check: (run) => {
      const changed = parseChanges(run);
      if (changed.length !== 1 || changed[0]!.kind !== 'procmap' || changed[0]!.action !== 'update') {
        throw new Error(`after moving one user, render changed more than procmap.txt: ${JSON.stringify(changed).slice(0, 500)}`);
      }
    },
  });
  return cell;
}
