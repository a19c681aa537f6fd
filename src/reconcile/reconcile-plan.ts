/** Everything reconcile would do, from the desired files and the live state. Pure. */
import type { Inventory } from '../inventory/types.js';
import type { FileChange } from '../plan/file-plan.js';
import { generatedPaths } from '../render/files.js';
import type { LiveState } from './live-state.js';

export interface ReconcilePlan {
  files: FileChange[];
  /** user_file entries of users not in the inventory (removed: access revoked). */
  removePasswords: string[];
  /** Inventory users with no user_file entry (they cannot log in; plexctl cannot invent a password). */
  missingPasswords: string[];
  /** A graceful restart of Apache (restarts every group), and why. */
  graceful: string[];
  /** Groups to restart alone (only when no graceful restart is planned), with why. */
  restart: { group: string; reason: string }[];
  /** Groups with no running daemon, and daemons of groups not in the inventory. */
  missingDaemons: string[];
  strayDaemons: string[];
}

/** Daemon start times are measured to about 10 ms; a file this much newer counts as changed after the start. */
export const clockSlackMs = 20;

export function isPending(plan: ReconcilePlan): boolean {
  return plan.files.length > 0 || plan.removePasswords.length > 0 || plan.graceful.length > 0 || plan.restart.length > 0;
}

export function planReconcile(inventory: Inventory, files: FileChange[], live: LiveState): ReconcilePlan {
  const paths = generatedPaths(inventory);
  const inventoryUsers = new Set(inventory.users.map((u) => u.user));
  const passwordUsers = new Set(live.passwordUsers);
  const plan: ReconcilePlan = {
    files,
    removePasswords: live.passwordUsers.filter((u) => !inventoryUsers.has(u)),
    missingPasswords: inventory.users.filter((u) => !passwordUsers.has(u.user)).map((u) => u.user),
    graceful: [],
    restart: [],
    missingDaemons: [],
    strayDaemons: live.stray.map((s) => s.group),
  };
  if (!live.apache.running) return plan;

  const changed = (path: string) => files.some((f) => f.path === path);
  const newerThan = (path: string, start: number | undefined) =>
    start !== undefined && (live.mtimes.get(path) ?? 0) > start + clockSlackMs;
  const starts = [...live.daemons.values()].flatMap((d) => (d.oldestStart !== undefined ? [d.oldestStart] : []));
  const oldest = starts.length > 0 ? Math.min(...starts) : undefined;

  plan.missingDaemons = inventory.groups.filter((g) => (live.daemons.get(g.name)?.pids.length ?? 0) === 0).map((g) => g.name);
  if (changed(paths.conf)) plan.graceful.push(`${paths.conf} changes`);
  else if (newerThan(paths.conf, oldest)) plan.graceful.push(`${paths.conf} changed after Apache last loaded it`);
  if (plan.missingDaemons.length > 0) plan.graceful.push(`no daemon runs for ${plan.missingDaemons.join(', ')}`);
  if (plan.strayDaemons.length > 0) plan.graceful.push(`daemons run for groups not in the inventory: ${plan.strayDaemons.join(', ')}`);
  if (plan.graceful.length > 0) return plan;

  for (const group of inventory.groups) {
    const start = live.daemons.get(group.name)?.oldestStart;
    const script = paths.group(group.name);
    const reason = changed(script)
      ? 'its settings script changes'
      : changed(paths.main)
        ? 'the site script changes'
        : newerThan(script, start)
          ? 'its settings script changed after its daemons started'
          : newerThan(paths.main, start)
            ? 'the site script changed after its daemons started'
            : undefined;
    if (reason) plan.restart.push({ group: group.name, reason });
  }
  return plan;
}
