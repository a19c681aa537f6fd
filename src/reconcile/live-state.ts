/** What is running and on disk now, as far as reconcile cares. Read-only. */
import { apacheState, groupDaemons, isDaemonOf, listProcesses, type ApacheState, type ProcessLister } from '../apache/daemons.js';
import { processFacts } from '../apache/proc.js';
import { parseHtpasswd, readHtpasswd } from '../apache/htpasswd.js';
import { statOrUndefined } from '../apply/atomic-write.js';
import type { Inventory } from '../inventory/types.js';
import { generatedPaths } from '../render/files.js';

export interface GroupDaemons {
  pids: number[];
  /** When the oldest of them started (undefined when none runs). */
  oldestStart?: number;
}

export interface LiveState {
  apache: ApacheState;
  daemons: Map<string, GroupDaemons>;
  /** Daemon titles under the Apache parent that name no inventory group. */
  stray: { group: string; pids: number[] }[];
  /** mtimeMs of the managed files that exist. */
  mtimes: Map<string, number>;
  /** Users that have an entry in user_file. */
  passwordUsers: string[];
}

const titlePattern = /^\(wsgi:([^)\s]+)\)/;

export async function readLiveState(inventory: Inventory, lister: ProcessLister = listProcesses): Promise<LiveState> {
  const processes = await lister();
  const apache = await apacheState(inventory.apache.pidFile, processes);
  const daemons = new Map<string, GroupDaemons>();
  const stray: LiveState['stray'] = [];
  if (apache.running) {
    for (const group of inventory.groups) {
      const pids = groupDaemons(processes, apache.pid, group.name);
      const starts = (await Promise.all(pids.map(processFacts))).flatMap((f) => (f ? [f.startedAt.getTime()] : []));
      daemons.set(group.name, { pids, ...(starts.length > 0 ? { oldestStart: Math.min(...starts) } : {}) });
    }
    const known = new Set(inventory.groups.map((g) => g.name));
    const others = new Map<string, number[]>();
    for (const p of processes.filter((p) => p.ppid === apache.pid)) {
      const name = titlePattern.exec(p.cmd)?.[1];
      if (name !== undefined && !known.has(name) && isDaemonOf(p.cmd, name)) others.set(name, [...(others.get(name) ?? []), p.pid]);
    }
    stray.push(...[...others].map(([group, pids]) => ({ group, pids })));
  }
  const paths = generatedPaths(inventory);
  const mtimes = new Map<string, number>();
  for (const path of [paths.conf, paths.main, ...inventory.groups.map((g) => paths.group(g.name))]) {
    const info = await statOrUndefined(path);
    if (info) mtimes.set(path, info.mtimeMs);
  }
  const passwordUsers = [...parseHtpasswd(await readHtpasswd(inventory.apache.userFile)).users.keys()];
  return { apache, daemons, stray, mtimes, passwordUsers };
}
