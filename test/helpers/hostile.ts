/**
 * Helpers for the hostile-input and fault tests (crash, faults, soak): a seeded PRNG, the CLI as a
 * child process that can be SIGKILLed, a process that records the signals it receives, snapshots
 * of the managed files, and a probe for `chattr +i` on the test's filesystem.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot, sleep } from './e2e.js';

export const plexctlBin = join(repoRoot, 'bin', 'plexctl.js');

/** mulberry32: a small, seeded, reproducible PRNG; returns floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Running {
  child: ChildProcess;
  pid: number;
  startedAt: number;
  done: Promise<Finished>;
}

/** `node bin/plexctl.js ARGS` in `cwd`, as a plain child process (so it can be SIGKILLed). */
export function spawnPlexctl(cwd: string, args: string[], input = ''): Running {
  const startedAt = Date.now();
  const child = spawn(process.execPath, [plexctlBin, ...args], {
    cwd,
    env: { ...process.env, PLEXCTL_INVENTORY: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdin!.on('error', () => undefined); // killed before it read its input
  child.stdin!.end(input);
  const done = new Promise<Finished>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - startedAt }));
  });
  return { child, pid: child.pid!, startedAt, done };
}

/** Run the CLI to completion, bounded by `timeoutMs` (then SIGKILL). */
export async function runPlexctl(cwd: string, args: string[], input = '', timeoutMs = 120_000): Promise<Finished> {
  const run = spawnPlexctl(cwd, args, input);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  try {
    return await run.done;
  } finally {
    clearTimeout(timer);
  }
}

export const describeRun = (r: Finished) => `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

export { isAlive } from '../../src/apply/atomic-write.js';

/** Alive and not a zombie (a zombie's parent has not reaped it yet: it runs no more). */
export async function isRunning(pid: number): Promise<boolean> {
  const stat = await readOrUndefined(`/proc/${pid}/stat`).catch(() => undefined);
  if (stat === undefined) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  return state !== 'Z' && state !== 'X';
}

/** Temp files of plexctl's atomic writes (`.NAME.PID-HEX.plexctl-tmp`) in these directories. */
export async function tempFiles(dirs: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const dir of new Set(dirs)) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) if (name.endsWith('.plexctl-tmp') || name.includes('.stale-')) found.push(join(dir, name));
  }
  return found.sort();
}

export async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** path -> content (undefined: absent) of each path. */
export async function snapshot(paths: string[]): Promise<Map<string, string | undefined>> {
  return new Map(await Promise.all(paths.map(async (p) => [p, await readOrUndefined(p)] as const)));
}

/**
 * A process that records every SIGINT, SIGTERM, SIGUSR1, SIGUSR2 and SIGHUP it receives into
 * `logFile` (one name a line) and otherwise sleeps until `lifetimeMs`. With `argv0`, its argv[0]
 * (what ps shows first) is that string; `extraArgs` are appended to its command line. With
 * `child`, it starts one more recorder as its own child (argv[0] `child.argv0`, e.g. `(wsgi:alpha)`
 * to look like a mod_wsgi daemon), logging to `childLogFile`.
 */
export interface Recorder {
  pid: number;
  childPid?: number;
  logFile: string;
  childLogFile?: string;
  stop(): Promise<void>;
}

const recorderScript = `
const { appendFileSync, writeFileSync } = require('node:fs');
const { spawn } = require('node:child_process');
const log = process.env.RECORDER_LOG;
for (const s of ['SIGINT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGHUP']) process.on(s, () => appendFileSync(log, s + '\\n'));
const childArgv0 = process.env.RECORDER_CHILD_ARGV0;
if (childArgv0) {
  const env = { ...process.env, RECORDER_LOG: process.env.RECORDER_CHILD_LOG, RECORDER_CHILD_ARGV0: '', RECORDER_READY: log + '.child-ready' };
  const child = spawn(process.execPath, [__filename], { argv0: childArgv0, env, stdio: ['ignore', 'ignore', 'inherit'] });
  process.on('exit', () => { try { process.kill(child.pid, 'SIGKILL'); } catch {} });
  writeFileSync(log + '.child', String(child.pid));
}
writeFileSync(process.env.RECORDER_READY, String(process.pid));
setTimeout(() => process.exit(0), Number(process.env.RECORDER_LIFETIME_MS));
`;

export async function startRecorder(
  dir: string,
  name: string,
  options: { argv0?: string; extraArgs?: string[]; child?: { argv0: string }; lifetimeMs?: number } = {},
): Promise<Recorder> {
  const logFile = join(dir, `${name}.signals`);
  const childLogFile = options.child ? join(dir, `${name}-child.signals`) : undefined;
  await writeFile(logFile, '');
  if (childLogFile) await writeFile(childLogFile, '');
  const script = join(dir, `${name}-recorder.cjs`);
  await writeFile(script, recorderScript);
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    RECORDER_LOG: logFile,
    RECORDER_READY: `${logFile}.ready`,
    RECORDER_LIFETIME_MS: String(options.lifetimeMs ?? 120_000),
    RECORDER_CHILD_ARGV0: options.child?.argv0 ?? '',
    RECORDER_CHILD_LOG: childLogFile ?? '',
  };
  const child = spawn(process.execPath, [script, ...(options.extraArgs ?? [])], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
    ...(options.argv0 ? { argv0: options.argv0 } : {}),
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid!;
  // Ready once it (and its child) wrote their ready files: the handlers are installed before.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ready = (await readOrUndefined(`${logFile}.ready`)) !== undefined && (!options.child || (await readOrUndefined(`${logFile}.child-ready`)) !== undefined);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('the signal recorder did not start');
    }
    await sleep(50);
  }
  const childPid = options.child ? Number(await readFile(`${logFile}.child`, 'utf8')) : undefined;
  const kill = (p: number | undefined) => {
    if (p === undefined) return;
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone already */
    }
  };
  return {
    pid,
    ...(childPid !== undefined ? { childPid } : {}),
    logFile,
    ...(childLogFile ? { childLogFile } : {}),
    async stop() {
      kill(childPid);
      kill(pid);
      await exited;
      const deadlineChild = Date.now() + 5000;
      while (childPid !== undefined && (await isRunning(childPid)) && Date.now() < deadlineChild) await sleep(20);
    },
  };
}

/** The pid of a process that has exited. */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

/**
 * Whether `chattr +i` works on files and directories under `dir` (e2fsprogs present, a filesystem
 * that supports the immutable flag, and the privilege to set it), so that even root cannot write.
 */
export async function immutableWorks(dir: string): Promise<boolean> {
  const probe = join(dir, '.chattr-probe');
  try {
    await writeFile(probe, 'x');
    const set = await execa('chattr', ['+i', probe], { reject: false });
    if (set.exitCode !== 0) return false;
    const listed = await execa('lsattr', ['-d', probe], { reject: false });
    let blocked = false;
    try {
      await writeFile(probe, 'y');
    } catch {
      blocked = true;
    }
    await execa('chattr', ['-i', probe], { reject: false });
    return listed.exitCode === 0 && /^\S*i\S*\s/.test(listed.stdout) && blocked;
  } catch {
    return false;
  } finally {
    await execa('chattr', ['-i', probe], { reject: false }).catch(() => undefined);
    await rm(probe, { force: true }).catch(() => undefined);
  }
}

export async function setImmutable(path: string, on: boolean): Promise<void> {
  const r = await execa('chattr', [on ? '+i' : '-i', path], { reject: false });
  if (r.exitCode !== 0 && on) throw new Error(`chattr +i ${path}: ${r.stderr}`);
}
