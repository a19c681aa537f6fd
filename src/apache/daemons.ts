/**
 * Finding an Apache's mod_wsgi daemons: children of the Apache parent (the PID in the pid file).
 * Who a daemon belongs to is decided by its uid, where each group has an account of its own: a
 * tenant's code can rewrite its own title (display-name=%{GROUP} makes argv[0] `(wsgi:GROUP)`),
 * not its uid. The title is checked too, and a mismatch is reported as suspect, never trusted.
 */
import { readFile } from 'node:fs/promises';
import { readRegularFile, UnsafePathError } from '../system/safe-fs.js';
import { daemonTitle } from './name-limits.js';
import { listProcesses as listProcTable } from '../system/processes.js';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Real uid (absent in hand-made tables: then only titles are compared). */
  uid?: number;
  /** The command line, arguments joined by spaces (argv[0] first). */
  cmd: string;
}

/** Lists processes: /proc on a real machine, a table in unit tests. */
export type ProcessLister = () => Promise<ProcessInfo[]>;

export const listProcesses: ProcessLister = async () => (await listProcTable()).map((p) => ({ pid: p.pid, ppid: p.ppid, uid: p.uid, cmd: p.cmd }));

/** The uid each group's daemons run as, for groups with an account of their own that exists. */
export type GroupUids = Map<string, number>;

export interface SuspectProcess {
  pid: number;
  uid?: number;
  title: string;
  reason: string;
}

export interface DaemonCensus {
  byGroup: Map<string, number[]>;
  /** Children whose title and uid disagree: reported, never a reason to restart anything. */
  suspect: SuspectProcess[];
  /** Daemons of groups not in the inventory (by title, under no inventory group's uid). */
  stray: { group: string; pids: number[] }[];
}

const titlePattern = /^\(wsgi:([^)\s]+)\)/;

/** Sort the Apache parent's children into the groups' daemons, suspects and strays. */
export function daemonCensus(processes: ProcessInfo[], parentPid: number, groups: string[], uids: GroupUids = new Map()): DaemonCensus {
  const byGroup = new Map<string, number[]>(groups.map((g) => [g, []]));
  const groupOfUid = new Map([...uids].map(([group, uid]) => [uid, group]));
  const suspect: SuspectProcess[] = [];
  const stray = new Map<string, number[]>();
  for (const p of processes) {
    if (p.ppid !== parentPid) continue;
    const match = titlePattern.exec(p.cmd);
    const name = match && isDaemonOf(p.cmd, match[1]!) ? match[1]! : undefined;
    const owner = p.uid !== undefined ? groupOfUid.get(p.uid) : undefined;
    const title = p.cmd.split(' ')[0] ?? '';
    if (owner !== undefined) {
      byGroup.get(owner)!.push(p.pid);
      if (name !== owner) suspect.push({ pid: p.pid, uid: p.uid!, title, reason: `runs as group ${owner}'s account but its title is ${JSON.stringify(title)}` });
      continue;
    }
    if (name === undefined) continue; // Apache's own workers
    if (byGroup.has(name)) {
      if (uids.has(name)) suspect.push({ pid: p.pid, ...(p.uid !== undefined ? { uid: p.uid } : {}), title, reason: `calls itself ${daemonTitle(name)} but does not run as that group's account` });
      else byGroup.get(name)!.push(p.pid);
    } else {
      stray.set(name, [...(stray.get(name) ?? []), p.pid]);
    }
  }
  for (const pids of byGroup.values()) pids.sort((a, b) => a - b);
  return { byGroup, suspect, stray: [...stray].map(([group, pids]) => ({ group, pids })) };
}

export { daemonTitle };

/** argv[0], trailing spaces removed, is exactly `(wsgi:GROUP)`: django1 never matches django10. */
export function isDaemonOf(cmd: string, group: string): boolean {
  const title = daemonTitle(group);
  return cmd === title || cmd.startsWith(`${title} `);
}

export function groupDaemons(processes: ProcessInfo[], parentPid: number, group: string, uids: GroupUids = new Map()): number[] {
  return daemonCensus(processes, parentPid, [group], new Map([...uids].filter(([g]) => g === group))).byGroup.get(group)!;
}

/** An Apache parent is an apache2/httpd process; a pid file pointing at anything else is stale. */
export function isApacheProcess(p: ProcessInfo | undefined): boolean {
  const argv0 = p?.cmd.split(' ')[0] ?? '';
  return /(^|\/)(apache2|httpd)$/.test(argv0);
}

/** A pid file holds a pid and a newline; anything longer is not one. */
export const maxPidFileBytes = 64;

export type ApacheState =
  | { running: true; pid: number }
  | { running: false; reason: string };

export async function apacheState(pidFile: string, processes: ProcessInfo[]): Promise<ApacheState> {
  let text: string;
  try {
    // Never through a link, never blocking on a FIFO, never more than a pid's worth.
    const file = await readRegularFile(pidFile, { maxBytes: maxPidFileBytes });
    if (!file) return { running: false, reason: `no pid file at ${pidFile}` };
    text = file.content.toString('utf8');
  } catch (error) {
    if (error instanceof UnsafePathError) return { running: false, reason: `refusing the pid file ${pidFile}: it ${error.reason}; no process was signalled (${error.fix})` };
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { running: false, reason: `no pid file at ${pidFile}` };
    return { running: false, reason: `cannot read the pid file ${pidFile} (${code ?? String(error)}): run as root or as Apache's user` };
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 1) return { running: false, reason: `${pidFile} does not hold a pid` };
  const process = processes.find((p) => p.pid === pid);
  if (!process) return { running: false, reason: `pid ${pid} from ${pidFile} is not running (stale pid file)` };
  if (!isApacheProcess(process)) {
    return { running: false, reason: `pid ${pid} from ${pidFile} is not Apache (${process.cmd.slice(0, 60)}); it was not touched` };
  }
  return { running: true, pid };
}

/**
 * A daemon serves once it has started its request threads: mod_wsgi runs the WSGIImportScript
 * files (settings, then the site) first, with a single thread.
 */
export async function daemonReady(pid: number): Promise<boolean> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const threads = Number(/^Threads:\s+(\d+)$/m.exec(status)?.[1] ?? 0);
  return threads > 1;
}
