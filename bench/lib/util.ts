/**
 * Small helpers of the benchmark suite: statistics, timed child processes (wall time measured
 * here, peak RSS from GNU time), and the repository's paths. Node built-ins only, so the suite
 * does not depend on the code it measures.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/bench/lib/util.js -> the repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const plexctlBin = join(repoRoot, 'bin', 'plexctl.js');
export const demoSite = join(repoRoot, 'examples', 'demo', 'site');
export const gnuTime = '/usr/bin/time';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const max = (values: number[]) => (values.length === 0 ? NaN : Math.max(...values));
export const min = (values: number[]) => (values.length === 0 ? NaN : Math.min(...values));

export interface Summary {
  median: number;
  max: number;
  min: number;
  n: number;
}

export function summarize(values: number[]): Summary {
  return { median: median(values), max: max(values), min: min(values), n: values.length };
}

/** A temp directory Apache's user can read (mkdtemp makes 0700). */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export { freePort } from '../../test/helpers/e2e.js';

/** GNU time is what reports a child's peak RSS; install it (apt package `time`) when root. */
export function ensureGnuTime(): boolean {
  if (existsSync(gnuTime)) return true;
  if (process.getuid?.() !== 0) return false;
  process.stderr.write('bench: /usr/bin/time is missing; installing the Debian package `time`\n');
  spawnSync('apt-get', ['install', '-y', 'time'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return existsSync(gnuTime);
}

export interface TimedRun {
  /** Wall time from spawn to exit, measured by this process. */
  wallMs: number;
  /** The child's peak resident set size (GNU time's %M), in KiB; NaN without GNU time. */
  maxRssKiB: number;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Killed at the time limit: wallMs is the limit and maxRssKiB a lower bound. */
  timedOut: boolean;
}

let timeFileCounter = 0;

/**
 * Run `command args` under GNU time (when present) and measure it. The wrapper is the same for
 * every command, so the floor (`node -e 0`) pays it too. On timeout only the measured process
 * (time's child) is killed, so GNU time still reports its peak RSS so far.
 */
export async function timedRun(
  command: string,
  args: string[],
  options: { cwd?: string; input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<TimedRun> {
  const withTime = existsSync(gnuTime);
  const timeFile = join(tmpdir(), `plexctl-bench-time-${process.pid}-${timeFileCounter++}.txt`);
  const argv = withTime ? ['-f', '%e %M', '-o', timeFile, command, ...args] : args;
  const started = performance.now();
  const child = spawn(withTime ? gnuTime : command, argv, {
    cwd: options.cwd ?? repoRoot,
    env: options.env ?? { ...process.env, PLEXCTL_INVENTORY: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input ?? '');
  let timedOut = false;
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          killMeasured(child.pid!, withTime);
        }, options.timeoutMs);
  const exitCode = await new Promise<number | null>((resolveExit, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolveExit(code));
  });
  const wallMs = performance.now() - started;
  if (timer) clearTimeout(timer);
  let maxRssKiB = NaN;
  if (withTime) {
    const report = await readFile(timeFile, 'utf8').catch(() => '');
    await rm(timeFile, { force: true });
    const last = report.trim().split('\n').pop() ?? '';
    const match = /^([\d.]+) (\d+)$/.exec(last);
    if (match) maxRssKiB = Number(match[2]);
  }
  return { wallMs, maxRssKiB, exitCode, stdout, stderr, timedOut };
}

function killMeasured(pid: number, underTime: boolean): void {
  let target = pid;
  if (underTime) {
    const children = spawnSync('cat', [`/proc/${pid}/task/${pid}/children`], { encoding: 'utf8' }).stdout.trim();
    const first = Number(children.split(/\s+/)[0]);
    if (Number.isInteger(first) && first > 1) target = first;
  }
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** `node bin/plexctl.js ARGS`, measured. */
export function timedPlexctl(args: string[], options: { cwd?: string; input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<TimedRun> {
  return timedRun(process.execPath, [plexctlBin, ...args], options);
}

/** The floor of any Node CLI: `node -e 0`, under the same wrapper. */
export function timedFloor(): Promise<TimedRun> {
  return timedRun(process.execPath, ['-e', '0']);
}

/** Run plexctl to completion (not measured); throws on an unexpected exit code. */
export async function plexctl(args: string[], options: { cwd?: string; input?: string; expect?: number[] } = {}): Promise<TimedRun> {
  const run = await timedRun(process.execPath, [plexctlBin, ...args], options);
  const expect = options.expect ?? [0];
  if (!expect.includes(run.exitCode ?? -1)) {
    throw new Error(`plexctl ${args.join(' ')} exited ${run.exitCode}:\n${run.stderr}${run.stdout}`.trimEnd());
  }
  return run;
}

export const fmtMs = (ms: number) => (Number.isNaN(ms) ? '-' : ms >= 10000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
export const fmtMiB = (kib: number) => (Number.isNaN(kib) ? '-' : `${Math.round(kib / 1024)} MiB`);
export const fmtRatio = (r: number) => (Number.isNaN(r) ? '-' : `${r >= 10 ? r.toFixed(0) : r.toFixed(1)}x`);
export const fmtCount = (n: number) => (n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));

/** A plain text table: right-aligned columns, except the first `leftCols`. */
export function table(header: string[], rows: string[][], leftCols = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < leftCols ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * The floor of every CLI figure: `node -e 0`, sampled once before each measured run, so that it
 * sees the same machine load as the runs it is compared with.
 */
export class Floor {
  readonly samples: number[] = [];
  readonly rssKiB: number[] = [];
  async sample(): Promise<void> {
    const run = await timedFloor();
    if (run.exitCode !== 0) throw new Error(`node -e 0 exited ${run.exitCode}: ${run.stderr}`);
    this.samples.push(run.wallMs);
    this.rssKiB.push(run.maxRssKiB);
  }
  get median(): number {
    return median(this.samples);
  }
}
