/** Facts about a process from /proc (Linux): when it started, and its resident memory. */
import { readFile } from 'node:fs/promises';

let bootTimeMs: number | undefined;
const ticksPerSecond = 100; // USER_HZ, 100 on every Linux architecture Debian ships

/** Boot time to 10 ms (now minus /proc/uptime); /proc/stat's btime is rounded to whole seconds. */
async function bootTime(): Promise<number> {
  if (bootTimeMs === undefined) {
    const uptime = Number((await readFile('/proc/uptime', 'utf8')).split(' ')[0]);
    bootTimeMs = Date.now() - uptime * 1000;
  }
  return bootTimeMs;
}

export interface ProcessFacts {
  pid: number;
  /** Start time, to 10 ms. */
  startedAt: Date;
  rssBytes: number;
}

export async function processFacts(pid: number): Promise<ProcessFacts | undefined> {
  try {
    const [stat, status] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/status`, 'utf8')]);
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = Number(fields[19]);
    const rssKiB = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
    return { pid, startedAt: new Date((await bootTime()) + (startTicks * 1000) / ticksPerSecond), rssBytes: rssKiB * 1024 };
  } catch {
    return undefined;
  }
}
