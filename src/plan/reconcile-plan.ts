/**
 * Everything reconcile would do, from the file plan and the live state. Pure. What a changed file
 * does to the live server comes from its descriptor's effect (src/render/generated-files.ts).
 */
import type { Inventory } from '../inventory/types.js';
import type { DesiredFile, FileChange } from '../model/files.js';
import type { LiveState } from '../observe/live-state.js';
import { clockToleranceMs } from '../poll.js';
import { descriptorOf } from '../render/generated-files.js';
import { isInstancePending, type InstanceChanges } from './instance-plan.js';

export interface ReconcilePlan {
  /** Accounts and data directories the instances need before anything else. */
  instances: InstanceChanges;
  files: FileChange[];
  /** Passwords of users not in the inventory (removed: access revoked). */
  removePasswords: string[];
  /** Inventory users with no password (they cannot log in; plexctl cannot invent a password). */
  missingPasswords: string[];
  /** A graceful restart of the web server (restarts every group), and why. */
  graceful: string[];
  /** Groups to restart alone (only when no graceful restart is planned), with why. */
  restart: { group: string; reason: string }[];
  /** Groups with no running daemon, and daemons of groups not in the inventory. */
  missingDaemons: string[];
  strayDaemons: string[];
  /** Groups the map on disk routes users to and the inventory no longer does: released after the map is written. */
  release: string[];
  /** New instances whose `site.init` has not run yet: initialised before the map routes anyone to them. */
  init: string[];
  /** Processes whose title and account disagree: a note, never a reason to restart anything. */
  suspect: NonNullable<LiveState['suspect']>;
}

export function isPending(plan: ReconcilePlan): boolean {
  return isInstancePending(plan.instances) || plan.init.length > 0 || plan.release.length > 0 || plan.files.length > 0 || plan.removePasswords.length > 0 || plan.graceful.length > 0 || plan.restart.length > 0;
}

/** `its settings script changes`, `the site script changed after its daemons started`. */
function reason(file: DesiredFile, own: boolean, now: boolean): string {
  const what = `${own ? 'its' : 'the'} ${descriptorOf(file.kind).label}`;
  return now ? `${what} changes` : `${what} changed after its daemons started`;
}

/** `desired` is the full set of generated files (their paths and kinds), `files` the changes to them. */
export function planReconcile(
  inventory: Inventory,
  desired: DesiredFile[],
  files: FileChange[],
  live: LiveState,
  instances: InstanceChanges = { accounts: [], dirs: [], blocked: [], foreign: [] },
  /** The groups that have had a tenant since their last release (the map on disk, plexctl's in-use marks). */
  mappedOnDisk: Set<string> = new Set(),
  /** Groups whose instance has not been initialised (site.init) since it was made or released. */
  uninitialised: string[] = [],
): ReconcilePlan {
  const inUse = new Set(inventory.users.map((u) => u.group));
  const inventoryUsers = new Set(inventory.users.map((u) => u.user));
  const passwordUsers = new Set(live.passwordUsers);
  const plan: ReconcilePlan = {
    instances,
    files,
    removePasswords: live.passwordUsers.filter((u) => !inventoryUsers.has(u)),
    missingPasswords: inventory.users.filter((u) => !passwordUsers.has(u.user)).map((u) => u.user),
    graceful: [],
    restart: [],
    missingDaemons: [],
    strayDaemons: live.stray.map((s) => s.group),
    suspect: live.suspect ?? [],
    init: uninitialised,
    release: inventory.groups.filter((g) => mappedOnDisk.has(g.name) && !inUse.has(g.name)).map((g) => g.name),
  };
  if (!live.server.running) return plan;

  // A file whose mode or owner alone was wrong is fixed in place: nothing reloads it.
  const changed = new Set(files.filter((f) => !f.accessOnly).map((f) => f.path));
  const newerThan = (path: string, start: number | undefined) =>
    start !== undefined && (live.mtimes.get(path) ?? 0) > start + clockToleranceMs;
  const starts = [...live.daemons.values()].flatMap((d) => (d.oldestStart !== undefined ? [d.oldestStart] : []));
  const oldest = starts.length > 0 ? Math.min(...starts) : undefined;
  const withEffect = (effect: string) => desired.filter((f) => descriptorOf(f.kind).effect === effect);

  plan.missingDaemons = inventory.groups.filter((g) => (live.daemons.get(g.name)?.pids.length ?? 0) === 0).map((g) => g.name);
  for (const file of withEffect('graceful')) {
    if (changed.has(file.path)) plan.graceful.push(`${file.path} changes`);
    else if (newerThan(file.path, oldest)) plan.graceful.push(`${file.path} changed after Apache last loaded it`);
  }
  if (plan.missingDaemons.length > 0) plan.graceful.push(`no daemon runs for ${plan.missingDaemons.join(', ')}`);
  if (plan.strayDaemons.length > 0) plan.graceful.push(`daemons run for groups not in the inventory: ${plan.strayDaemons.join(', ')}`);
  if (plan.graceful.length > 0) return plan;

  const everyGroup = withEffect('restart-every-group');
  const ownFiles = new Map<string, DesiredFile[]>();
  for (const file of withEffect('restart-group')) ownFiles.set(file.group!, [...(ownFiles.get(file.group!) ?? []), file]);
  for (const group of inventory.groups) {
    const start = live.daemons.get(group.name)?.oldestStart;
    const own = ownFiles.get(group.name) ?? [];
    // In order of precedence: a change now, then a change since the daemons started; own files before shared ones.
    const changedNow = own.find((f) => changed.has(f.path)) ?? everyGroup.find((f) => changed.has(f.path));
    const changedSince = own.find((f) => newerThan(f.path, start)) ?? everyGroup.find((f) => newerThan(f.path, start));
    const why = changedNow ? reason(changedNow, changedNow.group !== undefined, true) : changedSince ? reason(changedSince, changedSince.group !== undefined, false) : undefined;
    if (why) plan.restart.push({ group: group.name, reason: why });
  }
  return plan;
}
