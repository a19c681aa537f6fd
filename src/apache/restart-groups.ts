/**
 * Restart exactly some groups' daemons: signal the children of the Apache parent whose title is
 * `(wsgi:GROUP)`, then wait until each was replaced by a new, ready process.
 */
import { UserError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { pollUntil } from '../poll.js';
import type { GroupRestart, RestartReport } from '../server/web-server.js';
import { apacheState, daemonReady, groupDaemons, listProcesses, type ProcessLister } from './daemons.js';
import { groupUids } from './group-uids.js';

export interface RestartOptions {
  timeoutMs: number;
  lister?: ProcessLister;
  kill?: (pid: number, signal: NodeJS.Signals) => void;
}

export async function restartGroups(inventory: Inventory, groups: string[], options: RestartOptions): Promise<RestartReport> {
  const lister = options.lister ?? listProcesses;
  const kill = options.kill ?? ((pid, signal) => process.kill(pid, signal));
  const [processes, uids] = await Promise.all([lister(), groupUids(inventory)]);
  const server = await apacheState(inventory.apache.pidFile, processes);
  if (!server.running || groups.length === 0) return { server, groups: [] };
  const results: GroupRestart[] = groups.map((group) => ({ group, oldPids: groupDaemons(processes, server.pid, group, uids), newPids: [], done: false }));
  for (const result of results) {
    for (const pid of result.oldPids) signal(kill, pid, inventory.apache.restartSignal);
  }
  await pollUntil(
    async () => {
      const now = await lister();
      for (const result of results.filter((r) => !r.done)) {
        const current = groupDaemons(now, server.pid, result.group, uids);
        result.newPids = current.filter((pid) => !result.oldPids.includes(pid));
        const replaced = result.oldPids.length > 0 && current.every((pid) => !result.oldPids.includes(pid)) && result.newPids.length >= result.oldPids.length;
        const fresh = result.oldPids.length === 0 && result.newPids.length > 0;
        if ((replaced || fresh) && (await Promise.all(result.newPids.map(daemonReady))).every(Boolean)) result.done = true;
      }
      return results.every((r) => r.done);
    },
    { timeoutMs: options.timeoutMs, intervalMs: 100 },
  );
  for (const result of results.filter((r) => !r.done)) {
    result.problem =
      result.oldPids.length === 0 && result.newPids.length === 0
        ? `Apache (pid ${server.pid}) has no daemon for group ${result.group}: its configuration may not have this group yet (a graceful restart of Apache loads it)`
        : `the daemons of ${result.group} were not replaced by ready ones within ${options.timeoutMs / 1000} s; see Apache's error log`;
  }
  return { server, groups: results };
}

function signal(kill: NonNullable<RestartOptions['kill']>, pid: number, name: NodeJS.Signals): void {
  try {
    kill(pid, name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return; // already gone: Apache respawns it anyway
    if (code === 'EPERM') {
      throw new UserError(`permission denied sending ${name} to daemon ${pid}`, 'run plexctl as root or as Apache\'s user');
    }
    throw error;
  }
}
