/**
 * The process table, read from /proc (Linux) without spawning `ps`: plexctl decides from it which
 * processes to signal, so it must see the exact argv (mod_wsgi's daemons retitle themselves), the
 * parent and the owner, and must not depend on a `ps` binary or its output format.
 *
 * The files are read synchronously into one shared buffer. Measured on the 2-CPU VM this was
 * written on, with about 290 processes and a load average of 2 to 5: 12-17 ms median for a full
 * listing, of which the bare open/read/close of the three files takes 11-14 ms (about 12 µs per
 * /proc file; the same loop in Python takes 9-12 ms) and parsing well under 1 ms. With fs/promises
 * at a concurrency of 4, 16 or 64 it took 40-100 ms (every read a thread-pool round trip), and
 * ps-list 40-65 ms. Blocking the event loop that long is fine for a CLI.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Real uid and gid (process.getuid() of that process); `euid`/`egid` are the effective ones. */
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  /**
   * argv joined by spaces, as ps-list shows it, without the trailing padding mod_wsgi leaves
   * after its title. A process without argv (a kernel thread, a zombie) shows `[comm]`, as ps does.
   */
  cmd: string;
  /** argv exactly as the process left it in its memory (argv[0] may be a title padded with spaces). */
  argv: string[];
  /** The kernel's short name (at most 15 bytes), from `stat`. */
  comm: string;
  /** One letter from `stat`: R running, S sleeping, D disk wait, Z zombie, T stopped, ... */
  state: string;
  threads: number;
  /** Start time in clock ticks since boot: with the pid, it names one process for ever. */
  startTicks: number;
  rssBytes: number;
}

/** USER_HZ, the unit of `stat`'s start time: 100 on every Linux architecture Debian ships. */
const ticksPerSecond = 100;

let buffer = Buffer.allocUnsafe(64 * 1024);

/** A whole /proc file (a view of the shared buffer, valid until the next read), or undefined when the process is gone. */
function readProcFile(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if (isVanished(error)) return undefined;
    throw error;
  }
  try {
    let length = 0;
    for (;;) {
      // A long command line (up to ARG_MAX) needs a bigger buffer; keep it for later reads.
      if (length === buffer.length) buffer = Buffer.concat([buffer, Buffer.allocUnsafe(buffer.length)]);
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return buffer.subarray(0, length);
  } catch (error) {
    if (isVanished(error)) return undefined;
    throw error;
  } finally {
    closeSync(fd);
  }
}

function isVanished(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}

interface StatFields {
  comm: string;
  state: string;
  ppid: number;
  startTicks: number;
}

/**
 * `/proc/PID/stat`. The name in parentheses may hold spaces and ')' (a process names itself), so
 * the fields are counted from the last ')'.
 */
export function parseStat(text: string): StatFields | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  // After ") ": state(3) ppid(4) ... starttime(22), numbered as in proc(5).
  const fields = text.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  const startTicks = Number(fields[19]);
  if (!Number.isSafeInteger(ppid) || !Number.isSafeInteger(startTicks)) return undefined;
  return { comm: text.slice(open + 1, close), state: fields[0] ?? '?', ppid, startTicks };
}

interface StatusFields {
  uid: number;
  euid: number;
  gid: number;
  egid: number;
  threads: number;
  rssBytes: number;
}

/** `/proc/PID/status`: owners, threads and resident memory (a kernel thread has no VmRSS). */
const uidLine = /^Uid:\s+(\d+)\s+(\d+)/m;
const gidLine = /^Gid:\s+(\d+)\s+(\d+)/m;
const threadsLine = /^Threads:\s+(\d+)/m;
const rssLine = /^VmRSS:\s+(\d+) kB/m;

export function parseStatus(text: string): StatusFields | undefined {
  const uids = uidLine.exec(text);
  const gids = gidLine.exec(text);
  if (!uids || !gids) return undefined;
  return {
    uid: Number(uids[1]),
    euid: Number(uids[2]),
    gid: Number(gids[1]),
    egid: Number(gids[2]),
    threads: Number(threadsLine.exec(text)?.[1] ?? 0),
    rssBytes: Number(rssLine.exec(text)?.[1] ?? 0) * 1024,
  };
}

/** `/proc/PID/cmdline`: arguments each ended by a NUL. */
export function parseCmdline(raw: Buffer): string[] {
  if (raw.length === 0) return [];
  const argv = raw.toString('utf8').split('\0');
  // The last argument's terminator leaves one empty string; a process that rewrote its argv
  // area may leave a run of NULs instead, which are padding too.
  while (argv.length > 0 && argv[argv.length - 1] === '') argv.pop();
  return argv;
}

/** ps-list's `cmd`: argv joined by spaces, trailing padding dropped. */
export function commandLine(argv: string[], comm: string): string {
  const cmd = argv.join(' ').trimEnd();
  return cmd === '' ? `[${comm}]` : cmd;
}

function readProcess(pid: number): ProcessInfo | undefined {
  // Each file is decoded before the next read reuses the buffer.
  const stat = parseStat(readProcFile(`/proc/${pid}/stat`)?.toString('utf8') ?? '');
  if (!stat) return undefined;
  const status = parseStatus(readProcFile(`/proc/${pid}/status`)?.toString('utf8') ?? '');
  if (!status) return undefined;
  const cmdlineRaw = readProcFile(`/proc/${pid}/cmdline`);
  if (!cmdlineRaw) return undefined;
  // The three files are read one after another: a pid reused in between would need the kernel to
  // wrap around pid_max (4194304) within microseconds, so they describe one process.
  const argv = parseCmdline(cmdlineRaw);
  return { pid, ...stat, ...status, argv, cmd: commandLine(argv, stat.comm) };
}

/** Every process (not threads), in /proc's order (ascending pid). Processes that exit meanwhile are left out. */
export async function listProcesses(): Promise<ProcessInfo[]> {
  const processes: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[1-9]\d*$/.test(name)) continue;
    const info = readProcess(Number(name));
    if (info) processes.push(info);
  }
  return processes;
}

export interface ProcessIdentity {
  pid: number;
  startTicks: number;
}

/**
 * Who holds `pid` now, for lock staleness checks: a lock's pid names the same process only while
 * the start time matches too (pids are reused). A zombie has exited and holds nothing, so it
 * counts as gone.
 */
export async function processIdentity(pid: number): Promise<ProcessIdentity | undefined> {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  const raw = readProcFile(`/proc/${pid}/stat`);
  const stat = raw && parseStat(raw.toString('utf8'));
  if (!stat || stat.state === 'Z' || stat.state === 'X') return undefined;
  return { pid, startTicks: stat.startTicks };
}

let bootTimeMs: number | undefined;

/**
 * Boot time to 10 ms: now minus /proc/uptime (/proc/stat's btime is whole seconds). Read once:
 * the wall clock may be stepped later, but every start time then shifts alike.
 */
function bootTime(): number {
  if (bootTimeMs === undefined) {
    const uptime = Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]);
    bootTimeMs = Date.now() - uptime * 1000;
  }
  return bootTimeMs;
}

/** A start time in clock ticks since boot, as milliseconds since the epoch (to about 10 ms). */
export function startTimeMs(startTicks: number): number {
  return bootTime() + (startTicks * 1000) / ticksPerSecond;
}
