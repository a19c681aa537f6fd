/** One CLI figure: repeated timed runs, each paired with a floor sample taken just before it. */
import { Floor, median, summarize, type Summary, type TimedRun } from './util.js';

export interface Measure {
  what: string;
  wallMs: Summary;
  /** Peak RSS over the runs (KiB), and its median. */
  rssMaxKiB: number;
  rssMedianKiB: number;
  /** The `node -e 0` samples taken just before each run. */
  floorMs: Summary;
  /** median(wall) / median(paired floor). */
  ratio: number;
  /** Some run was killed at its time limit: wall is the limit, RSS a lower bound. */
  timedOut: boolean;
  samplesMs: number[];
  note?: string;
}

export interface RepeatOptions {
  reps: number;
  /** Stop repeating once the runs so far took this long (at least one run is always made). */
  capMs: number;
  /** Before each run, not timed (e.g. empty the output directory or toggle a user). */
  before?: (rep: number) => Promise<void>;
  /** Checks a finished run; throws when the command did not do what it should. */
  check?: (run: TimedRun) => void;
}

export async function repeat(what: string, floor: Floor, run: () => Promise<TimedRun>, options: RepeatOptions): Promise<Measure> {
  const walls: number[] = [];
  const rss: number[] = [];
  const floors: number[] = [];
  let timedOut = false;
  let spent = 0;
  for (let rep = 0; rep < options.reps; rep++) {
    if (options.before) await options.before(rep);
    await floor.sample();
    floors.push(floor.samples[floor.samples.length - 1]!);
    const result = await run();
    if (result.timedOut) timedOut = true;
    else options.check?.(result);
    walls.push(result.wallMs);
    rss.push(result.maxRssKiB);
    spent += result.wallMs;
    if (timedOut || spent >= options.capMs) break;
  }
  const wallMs = summarize(walls);
  const floorMs = summarize(floors);
  return {
    what,
    wallMs,
    rssMaxKiB: Math.max(...rss),
    rssMedianKiB: median(rss),
    floorMs,
    ratio: wallMs.median / floorMs.median,
    timedOut,
    samplesMs: walls.map((w) => Math.round(w)),
  };
}
