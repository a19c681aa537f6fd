/**
 * Finding an Apache's mod_wsgi daemons. With display-name=%{GROUP}, a daemon's argv[0] is
 * `(wsgi:GROUP)` padded with spaces; its parent is the Apache parent (the PID in the pid file).
 */
import { readFile } from 'node:fs/promises';
import { daemonTitle } from './name-limits.js';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** The command line, arguments joined by spaces (argv[0] first, with its padding). */
  cmd: string;
}

/** Lists processes: ps-list on a real machine, a table in unit tests. */
export type ProcessLister = () => Promise<ProcessInfo[]>;

export const listProcesses: ProcessLister = async () => {
  // Loaded on first use, like execa: commands that never look at processes do not pay for it.
  const { default: psList } = await import('ps-list');
  return (await psList({ all: true })).map((p) => ({ pid: p.pid, ppid: p.ppid, cmd: p.cmd ?? p.name }));
};

export { daemonTitle };

/** argv[0], trailing spaces removed, is exactly `(wsgi:GROUP)`: django1 never matches django10. */
export function isDaemonOf(cmd: string, group: string): boolean {
  const title = daemonTitle(group);
  return cmd === title || cmd.startsWith(`${title} `);
}

export function groupDaemons(processes: ProcessInfo[], parentPid: number, group: string): number[] {
  return processes
    .filter((p) => p.ppid === parentPid && isDaemonOf(p.cmd, group))
    .map((p) => p.pid)
    .sort((a, b) => a - b);
}

/** An Apache parent is an apache2/httpd process; a pid file pointing at anything else is stale. */
export function isApacheProcess(p: ProcessInfo | undefined): boolean {
  const argv0 = p?.cmd.split(' ')[0] ?? '';
  return /(^|\/)(apache2|httpd)$/.test(argv0);
}

export type ApacheState =
  | { running: true; pid: number }
  | { running: false; reason: string };

export async function apacheState(pidFile: string, processes: ProcessInfo[]): Promise<ApacheState> {
  let text: string;
  try {
    text = await readFile(pidFile, 'utf8');
  } catch (error) {
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
