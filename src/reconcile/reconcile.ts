/**
 * Make the live server match the inventory. The only side effects are here and in the modules
 * it calls; what to do was decided by planReconcile.
 */
import { UserError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { applyFileChanges, undo } from '../apply/apply-files.js';
import { configTest, gracefulRestart } from '../apache/ctl.js';
import { daemonReady, groupDaemons, listProcesses, type ProcessLister } from '../apache/daemons.js';
import { processFacts } from '../apache/proc.js';
import { readHtpasswd, withEntry, writeHtpasswd } from '../apache/htpasswd.js';
import { apacheGid } from '../apache/system-user.js';
import { readPid } from '../apache/private-server.js';
import { planFiles, type FileChange } from '../plan/file-plan.js';
import { readActualFiles } from '../plan/read-actual.js';
import { isMapKind, renderFiles } from '../render/render.js';
import { restartGroups } from '../lifecycle/restart.js';
import { readLiveState } from './live-state.js';
import { clockSlackMs, isPending, planReconcile, type ReconcilePlan } from './reconcile-plan.js';

export interface ReconcileOptions {
  dryRun: boolean;
  timeoutMs: number;
  lister?: ProcessLister;
}

export type Report = (action: string) => void;

/** Apache refused the new configuration: every file was restored and Apache was not signalled. */
export class ApacheConfigRejected extends UserError {
  constructor(output: string) {
    super(`Apache rejected the new configuration; every file was restored and Apache was not signalled:\n${output}`,
      'fix the inventory (see Apache\'s message above), then run reconcile again');
  }
}

export async function computePlan(inventory: Inventory, lister: ProcessLister = listProcesses): Promise<ReconcilePlan> {
  const desired = renderFiles(inventory);
  const [actual, live] = await Promise.all([readActualFiles(desired, inventory.apache.wsgiDir), readLiveState(inventory, lister)]);
  return planReconcile(inventory, planFiles(desired, actual), live);
}

export async function reconcile(inventory: Inventory, options: ReconcileOptions, report: Report): Promise<ReconcilePlan> {
  const lister = options.lister ?? listProcesses;
  const plan = await computePlan(inventory, lister);
  if (options.dryRun || !isPending(plan)) return plan;

  if (plan.removePasswords.length > 0) {
    const file = inventory.apache.userFile;
    let text = await readHtpasswd(file);
    for (const user of plan.removePasswords) text = withEntry(text, user, undefined);
    await writeHtpasswd(file, text, await apacheGid());
    report(`removed from ${file}: ${plan.removePasswords.join(', ')} (not in the inventory)`);
  }
  const map = plan.files.filter((f) => isMapKind(f.kind));
  const others = plan.files.filter((f) => !isMapKind(f.kind));
  await writeFiles(others, report);

  if (plan.graceful.length > 0) {
    const test = await configTest(inventory.apache.ctl);
    if (!test.ok) {
      await undo(others);
      throw new ApacheConfigRejected(test.output);
    }
    const startedAt = Date.now();
    const graceful = await gracefulRestart(inventory.apache.ctl);
    if (!graceful.ok) {
      await undo(others);
      throw new ApacheConfigRejected(graceful.output);
    }
    report(`graceful restart of Apache (${plan.graceful.join('; ')}): every group restarts`);
    await waitForAllGroups(inventory, startedAt, options.timeoutMs, lister);
    report(`every group serves again (${inventory.groups.length} groups)`);
  } else if (plan.restart.length > 0) {
    const restarted = await restartGroups(inventory, plan.restart.map((r) => r.group), { timeoutMs: options.timeoutMs, lister });
    for (const r of restarted.groups) {
      if (!r.done) throw new UserError(r.problem ?? `${r.group} did not restart`, 'see Apache\'s error log, then run reconcile again');
      const why = plan.restart.find((p) => p.group === r.group)?.reason;
      report(`restarted ${r.group} (${why}): pid ${r.oldPids.join(',')} -> ${r.newPids.join(',')}`);
    }
  }
  await writeFiles(map, report);
  return plan;
}

async function writeFiles(changes: FileChange[], report: Report): Promise<void> {
  if (changes.length === 0) return;
  await applyFileChanges(changes);
  for (const c of changes) report(`${c.action} ${c.path}`);
}

/** After a graceful restart: every group has daemons started since, ready, and no stray daemon is left. */
async function waitForAllGroups(inventory: Inventory, since: number, timeoutMs: number, lister: ProcessLister): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let waitingFor: string[] = inventory.groups.map((g) => g.name);
  while (Date.now() < deadline) {
    const processes = await lister();
    const parent = (await readPid(inventory.apache.pidFile)) ?? -1;
    const pending: string[] = [];
    for (const group of inventory.groups) {
      const pids = groupDaemons(processes, parent, group.name);
      const facts = await Promise.all(pids.map(processFacts));
      const fresh = pids.length > 0 && facts.every((f) => f !== undefined && f.startedAt.getTime() >= since - clockSlackMs);
      if (!fresh || !(await Promise.all(pids.map(daemonReady))).every(Boolean)) pending.push(group.name);
    }
    waitingFor = pending;
    if (pending.length === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new UserError(`after the graceful restart, these groups did not serve again within ${timeoutMs / 1000} s: ${waitingFor.join(', ')}`,
    'see Apache\'s error log; raise --timeout for many groups');
}
