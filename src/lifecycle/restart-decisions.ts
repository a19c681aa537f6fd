/**
 * Which groups a user change restarts. Pure, so each rule is unit-tested apart from Apache.
 * A fresh tenant gets a fresh process; a former tenant's process must not live on.
 */
import type { FileChange } from '../model/files.js';
import { descriptorOf } from '../render/generated-files.js';

/** Groups whose daemons load a file that changes (their own script). */
export function groupsWithChangedScripts(changes: FileChange[]): string[] {
  return [...new Set(changes.flatMap((c) => (c.group !== undefined && descriptorOf(c.kind).effect === 'restart-group' ? [c.group] : [])))];
}

/**
 * `user add` to `group`, which had `usersBefore` users. `ready`: the group has served nobody since
 * it was released or started (no in-use mark), so its daemon is already a fresh one: nothing to
 * restart (the mod_wsgi recipe's pre-defined pool, ready before anyone asks).
 */
export function restartOnAdd(group: string, usersBefore: number, changes: FileChange[], ready = false): string[] {
  return (usersBefore === 0 && !ready) || groupsWithChangedScripts(changes).includes(group) ? [group] : [];
}

/** Completing an earlier `user add` that stopped half-way: restart only if it never reached the map and the user is alone. */
export function restartOnResume(group: string, mapped: boolean, usersInGroup: number): string[] {
  return !mapped && usersInGroup === 1 ? [group] : [];
}

/** `user remove` from `group`, which has `usersAfter` users left. */
export function restartOnRemove(group: string, usersAfter: number, changes: FileChange[]): string[] {
  return usersAfter === 0 || groupsWithChangedScripts(changes).includes(group) ? [group] : [];
}

/** `user move`: the groups whose scripts change. */
export function restartOnMove(changes: FileChange[]): string[] {
  return groupsWithChangedScripts(changes);
}
