/**
 * The WebServer implementation for Apache + mod_wsgi. A group's daemons are the children of the
 * Apache parent (the pid in apache.pid_file) whose title is `(wsgi:GROUP)` (display-name=%{GROUP}).
 */
import { UserError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { clockToleranceMs, pollUntil } from '../poll.js';
import type { DaemonFacts, WebServer } from '../server/web-server.js';
import { configTest, gracefulRestart, includeFix, isIncluded } from './ctl.js';
import { apacheState, daemonCensus, daemonReady, listProcesses, type ProcessLister } from './daemons.js';
import { groupUids } from './group-uids.js';
import { runChecks } from './doctor-checks.js';
import { processFacts } from './proc.js';
import { readPid } from './private-server.js';
import { restartGroups } from './restart-groups.js';

export interface ApacheDeps {
  lister?: ProcessLister;
  kill?: (pid: number, signal: NodeJS.Signals) => void;
}

export function apacheServer(inventory: Inventory, deps: ApacheDeps = {}): WebServer {
  const lister = deps.lister ?? listProcesses;
  const groups = inventory.groups.map((g) => g.name);
  return {
    async observe() {
      const [processes, uids] = await Promise.all([lister(), groupUids(inventory)]);
      const server = await apacheState(inventory.apache.pidFile, processes);
      const daemons = new Map<string, DaemonFacts[]>(groups.map((g) => [g, []]));
      if (!server.running) return { server, daemons, stray: [], suspect: [] };
      const census = daemonCensus(processes, server.pid, groups, uids);
      for (const group of groups) {
        const facts = await Promise.all(census.byGroup.get(group)!.map(processFacts));
        // A daemon that exited since the listing has no facts: leave it out.
        daemons.set(group, facts.flatMap((f) => (f ? [{ pid: f.pid, startedAtMs: f.startedAt.getTime(), rssBytes: f.rssBytes }] : [])));
      }
      return { server, daemons, stray: census.stray, suspect: census.suspect };
    },
    async configTest() {
      const { ctl, confFile, siteFile } = inventory.apache;
      const test = await configTest(ctl);
      const result = { ok: test.ok, output: test.output, ...(test.rejected ? { rejected: test.rejected } : {}) };
      if (!test.ok) return result;
      for (const fragment of siteFile === undefined ? [confFile] : [confFile, siteFile]) {
        if (await isIncluded(test.includes, fragment)) continue;
        const fix = fragment === siteFile ? `add \`Include "${siteFile}"\` inside the <VirtualHost> that serves the site` : await includeFix(ctl, confFile);
        return { ...result, ok: false, notLoaded: { fragment, fix } };
      }
      return result;
    },
    gracefulReload: () => gracefulRestart(inventory.apache.ctl),
    waitForAllGroups: (sinceMs, timeoutMs) => waitFor(groups, sinceMs, timeoutMs, 'after the graceful restart, '),
    waitForGroups: (wanted, sinceMs, timeoutMs) => waitFor(wanted, sinceMs, timeoutMs, ''),
    restartGroups: (names, options) => restartGroups(inventory, names, { ...options, lister, ...(deps.kill ? { kill: deps.kill } : {}) }),
    doctorChecks: () => runChecks(inventory, { lister }),
  };

  async function waitFor(wanted: string[], sinceMs: number, timeoutMs: number, context: string): Promise<void> {
      let waitingFor = wanted;
      const done = await pollUntil(
        async () => {
          const [processes, uids] = await Promise.all([lister(), groupUids(inventory)]);
          const parent = (await readPid(inventory.apache.pidFile)) ?? -1;
          const census = daemonCensus(processes, parent, groups, uids);
          const pending: string[] = [];
          for (const group of wanted) {
            const pids = census.byGroup.get(group)!;
            const facts = await Promise.all(pids.map(processFacts));
            const fresh = pids.length > 0 && facts.every((f) => f !== undefined && f.startedAt.getTime() >= sinceMs - clockToleranceMs);
            if (!fresh || !(await Promise.all(pids.map(daemonReady))).every(Boolean)) pending.push(group);
          }
          waitingFor = pending;
          return pending.length === 0;
        },
        { timeoutMs, intervalMs: 200 },
      );
      if (!done) {
        throw new UserError(`${context}these groups did not serve again within ${timeoutMs / 1000} s: ${waitingFor.join(', ')}`,
          'see Apache\'s error log; raise --timeout for many groups');
      }
  }
}
