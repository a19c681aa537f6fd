/**
 * Make the live server match the inventory: the apply side of reconcile. What to do was decided
 * by planReconcile (pure); the side effects are here and in the modules it calls. It reports what
 * it does as events.
 */
import { UserError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { applyFileChanges, undo } from '../apply/apply-files.js';
import { credentialsOf } from '../credentials/for-inventory.js';
import { fileEvent, type Emit } from '../model/events.js';
import type { FileChange } from '../model/files.js';
import { readActualFiles } from '../observe/actual-files.js';
import { readLiveState } from '../observe/live-state.js';
import { observeInstances } from '../observe/instances.js';
import { planInstances } from '../plan/instance-plan.js';
import { applyInstanceChanges } from '../apply/instances.js';
import { planFiles } from '../plan/file-plan.js';
import { isPending, planReconcile, type ReconcilePlan } from '../plan/reconcile-plan.js';
import { isRoutingKind, renderFiles } from '../render/generated-files.js';
import { webServerOf } from '../server/for-inventory.js';
import { generatedPaths, marker } from '../render/files.js';
import { mappedGroups } from '../render/procmap.js';
import { releaseGroup } from '../apply/release.js';
import { groupsInUse, markInUse, readInUse } from '../apply/in-use.js';
import type { WebServer } from '../server/web-server.js';

export interface ReconcileOptions {
  dryRun: boolean;
  timeoutMs: number;
  server?: WebServer;
}

/** Apache refused the new configuration: every file was restored and Apache was not signalled. */
export class ApacheConfigRejected extends UserError {
  constructor(output: string) {
    super(`Apache rejected the new configuration; every file was restored and Apache was not signalled:\n${output}`,
      'fix the inventory (see Apache\'s message above), then run reconcile again');
  }
}

export async function computePlan(inventory: Inventory, server: WebServer = webServerOf(inventory)): Promise<ReconcilePlan> {
  const desired = renderFiles(inventory);
  const [actual, live, instances] = await Promise.all([
    readActualFiles(desired, inventory.apache.wsgiDir, marker(inventory)),
    readLiveState(desired, server, credentialsOf(inventory)),
    observeInstances(inventory),
  ]);
  const map = actual.contents.get(generatedPaths(inventory).procmap) ?? '';
  const hadTenants = new Set([...mappedGroups(map), ...(await readInUse(inventory))]);
  return planReconcile(inventory, desired, planFiles(desired, actual), live, planInstances(inventory, instances), hadTenants);
}

export async function reconcile(inventory: Inventory, options: ReconcileOptions, emit: Emit): Promise<ReconcilePlan> {
  const server = options.server ?? webServerOf(inventory);
  const plan = await computePlan(inventory, server);
  if (options.dryRun || !isPending(plan)) return plan;

  // Accounts first: the files' owners and Apache's configuration name them.
  for (const event of await applyInstanceChanges(plan.instances)) emit(event);

  if (plan.removePasswords.length > 0) {
    const credentials = credentialsOf(inventory);
    const removed = await credentials.remove(plan.removePasswords);
    emit({ kind: 'password', change: 'removed', users: removed, location: credentials.location, notInInventory: true });
  }
  const map = plan.files.filter((f) => isRoutingKind(f.kind));
  const others = plan.files.filter((f) => !isRoutingKind(f.kind));
  await writeFiles(others, emit);

  if (plan.graceful.length > 0) {
    const test = await server.configTest();
    if (!test.ok) {
      await undo(others);
      throw new ApacheConfigRejected(test.output);
    }
    const startedAt = Date.now();
    const graceful = await server.gracefulReload();
    if (!graceful.ok) {
      await undo(others);
      throw new ApacheConfigRejected(graceful.output);
    }
    emit({ kind: 'graceful', reasons: plan.graceful });
    await server.waitForAllGroups(startedAt, options.timeoutMs);
    emit({ kind: 'serving', groups: inventory.groups.length });
  } else if (plan.restart.length > 0) {
    const restarted = await server.restartGroups(plan.restart.map((r) => r.group), { timeoutMs: options.timeoutMs });
    for (const r of restarted.groups) {
      if (!r.done) throw new UserError(r.problem ?? `${r.group} did not restart`, 'see Apache\'s error log, then run reconcile again');
      const reason = plan.restart.find((p) => p.group === r.group)?.reason;
      emit({ kind: 'restarted', group: r.group, oldPids: r.oldPids, newPids: r.newPids, ...(reason !== undefined ? { reason } : {}) });
    }
  }
  await writeFiles(map, emit);
  await markInUse(inventory, groupsInUse(inventory));
  // The map no longer routes anyone to these: their last users were removed by hand.
  for (const group of plan.release) {
    for (const event of await releaseGroup(inventory, group, { server, timeoutMs: options.timeoutMs })) emit(event);
  }
  return plan;
}

async function writeFiles(changes: FileChange[], emit: Emit): Promise<void> {
  if (changes.length === 0) return;
  await applyFileChanges(changes);
  for (const c of changes) emit(fileEvent(c));
}
