/**
 * Make the live server match the inventory: the apply side of reconcile. What to do was decided
 * by planReconcile (pure); the side effects are here and in the modules it calls. It reports what
 * it does as events.
 */
import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UserError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { applyFileChanges, type AppliedFiles } from '../apply/apply-files.js';
import { credentialsOf } from '../credentials/for-inventory.js';
import { fileEvent, type Emit } from '../model/events.js';
import type { FileChange } from '../model/files.js';
import { readActualFiles, refuseForeignFiles } from '../observe/actual-files.js';
import { readLiveState } from '../observe/live-state.js';
import { observeInstances } from '../observe/instances.js';
import { planInstances } from '../plan/instance-plan.js';
import { applyInstanceChanges } from '../apply/instances.js';
import { planFiles } from '../plan/file-plan.js';
import { isPending, planReconcile, type ReconcilePlan } from '../plan/reconcile-plan.js';
import { isRoutingKind, leftoverCandidates, renderFiles } from '../render/generated-files.js';
import { webServerOf } from '../server/for-inventory.js';
import { generatedPaths, marker } from '../render/files.js';
import { mappedGroups } from '../render/procmap.js';
import { releaseGroup } from '../apply/release.js';
import { groupsInUse, markInUse, readInUse } from '../apply/in-use.js';
import type { ConfigResult, WebServer } from '../server/web-server.js';
import { groupsToInitialise, initFailedError, initialiseGroups } from '../apply/management.js';
import { desiredAgainstDisk } from '../observe/actual-files.js';

export interface ReconcileOptions {
  dryRun: boolean;
  timeoutMs: number;
  server?: WebServer;
}

/**
 * Apache refused the new configuration: every file was restored and Apache was not signalled.
 * `ours`: whether the file Apache names is one plexctl generates (then the inventory is to fix).
 */
export class ApacheConfigRejected extends UserError {
  constructor(output: string, rejected?: { file: string; line: number; ours: boolean }) {
    const where = rejected ? ` in ${rejected.file} line ${rejected.line}, ${rejected.ours ? 'a file plexctl generates' : 'which is not one of plexctl\'s files'}` : '';
    super(`Apache rejected the new configuration${where}; every file was restored and Apache was not signalled:\n${output}`,
      rejected === undefined
        ? 'fix what Apache\'s message above names (the inventory, if it is one of plexctl\'s files), then run reconcile again'
        : rejected.ours
          ? 'fix the inventory (see Apache\'s message above), then run reconcile again'
          : `fix ${rejected.file} (plexctl did not write it; Apache's message above says what is wrong), then run reconcile again`);
  }
}

/** The configuration Apache would load does not include the fragment: reloading it would serve every request without the site. */
export class FragmentNotLoaded extends UserError {
  constructor(notLoaded: { fragment: string; fix: string }, ctl: string[]) {
    super(`Apache's configuration (\`${ctl.join(' ')} -t\`) does not load ${notLoaded.fragment}: a graceful restart would serve every request without the site; every file was restored and Apache was not signalled`,
      `${notLoaded.fix}; then run the command again`);
  }
}

const realOrResolved = (path: string) => realpath(path).catch(() => resolve(path));

/** The error for a configuration the server refused, or that does not load the fragment. */
export async function configRefusal(test: ConfigResult, inventory: Inventory): Promise<UserError> {
  if (test.notLoaded) return new FragmentNotLoaded(test.notLoaded, inventory.apache.ctl);
  if (!test.rejected) return new ApacheConfigRejected(test.output);
  const file = await realOrResolved(test.rejected.file);
  const own = await Promise.all(renderFiles(inventory).map((f) => realOrResolved(f.path)));
  return new ApacheConfigRejected(test.output, { ...test.rejected, ours: own.includes(file) });
}

export async function computePlan(inventory: Inventory, server: WebServer = webServerOf(inventory)): Promise<ReconcilePlan> {
  const desired = renderFiles(inventory);
  const [actual, live, instances] = await Promise.all([
    readActualFiles(desired, inventory.apache.wsgiDir, marker(inventory), leftoverCandidates(inventory)),
    readLiveState(desired, server, credentialsOf(inventory)),
    observeInstances(inventory),
  ]);
  refuseForeignFiles(desired, actual.contents);
  const map = actual.contents.get(generatedPaths(inventory).procmap) ?? '';
  const hadTenants = new Set([...mappedGroups(map), ...(await readInUse(inventory))]);
  return planReconcile(inventory, desired, planFiles(desired, actual), live, planInstances(inventory, instances), hadTenants, await groupsToInitialise(inventory));
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
  const written = await writeFiles(others, emit);

  if (plan.graceful.length > 0) {
    const test = await server.configTest();
    if (!test.ok) {
      await written.undo();
      throw await configRefusal(test, inventory);
    }
    const startedAt = Date.now();
    const graceful = await server.gracefulReload();
    if (!graceful.ok) {
      await written.undo();
      throw await configRefusal(graceful, inventory);
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
  // New instances are initialised before the map routes anyone to them; the users of one whose
  // init failed are routed to a 503 instead, until a later run completes it.
  const init = await initialiseGroups(inventory, plan.init);
  for (const event of init.events) emit(event);
  const failed = new Set(init.failed.map((f) => f.group));
  await writeFiles(failed.size === 0 ? map : await routingChanges(inventory, failed), emit);
  await markInUse(inventory, groupsInUse(inventory).filter((g) => !failed.has(g)));
  // The map no longer routes anyone to these: their last users were removed by hand.
  for (const group of plan.release) {
    for (const event of await releaseGroup(inventory, group, { server, timeoutMs: options.timeoutMs })) emit(event);
  }
  // Ready for the next tenant: a released group is initialised again on its fresh data directory.
  const again = plan.release.length > 0 ? await initialiseGroups(inventory, plan.release.filter((g) => !failed.has(g) && inventory.site.init.length > 0)) : { events: [], failed: [] };
  for (const event of again.events) emit(event);
  const allFailed = [...init.failed, ...again.failed];
  if (allFailed.length > 0) throw initFailedError(allFailed, 'its users are answered 503 (not routed to it)');
  return plan;
}

/** The map's changes with the users of `unready` groups sent to a 503 instead of their group. */
async function routingChanges(inventory: Inventory, unready: ReadonlySet<string>): Promise<FileChange[]> {
  return (await desiredAgainstDisk(inventory, undefined, { unready })).filter((c) => isRoutingKind(c.kind));
}

async function writeFiles(changes: FileChange[], emit: Emit): Promise<AppliedFiles> {
  const written = await applyFileChanges(changes);
  for (const c of changes) emit(fileEvent(c));
  return written;
}
