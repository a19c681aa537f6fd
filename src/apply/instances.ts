/**
 * Carry out InstanceChanges: create accounts, then data directories with their mode and owner.
 * A directory is changed through a descriptor opened without following links, so a link swapped
 * in at its name is never followed.
 */
import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { forEachLimited } from '../limited.js';
import type { Event } from '../model/events.js';
import type { InstanceChanges } from '../plan/instance-plan.js';
import { ensureSystemUser, groupIdsByName, usersByName, type UserEntry } from '../system/accounts.js';
import { freeIds, systemIdRange } from '../system/account-ids.js';

async function setDirAccess(path: string, mode: number, owner: { uid: number; gid: number } | undefined): Promise<void> {
  const handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    if (owner && process.getuid?.() === 0) await handle.chown(owner.uid, owner.gid);
    await handle.chmod(mode);
  } finally {
    await handle.close();
  }
}

export async function applyInstanceChanges(changes: InstanceChanges): Promise<Event[]> {
  if (changes.blocked.length > 0) {
    const b = changes.blocked[0]!;
    throw new UserError(`${b.path} ${b.what}, where plexctl keeps a group's data directory; nothing was changed there`, `move it away (mv ${b.path} ${b.path}.moved), then run the command again`);
  }
  const events: Event[] = [];
  if (changes.accounts.length > 0) await checkRoomForAccounts(changes);
  for (const a of changes.accounts) {
    const made = await ensureSystemUser(a.user, { comment: a.comment, ...(a.userGroup === a.user ? {} : { group: a.userGroup }), ...(changes.accountIds ? { ids: changes.accountIds } : {}) });
    if (made.created) events.push({ kind: 'account', user: a.user, group: a.group, uid: made.uid });
  }
  // data_dir (and .released) first, in order; then the groups' directories inside it, a few at
  // a time (a thousand of them one by one cost a second of waiting on the disk).
  const outer = changes.dirs.filter((d) => d.group === undefined);
  const inner = changes.dirs.filter((d) => d.group !== undefined);
  // Read once, after the accounts above were made: the owners of the directories below.
  const accounts = changes.dirs.some((d) => d.owner !== undefined) ? await usersByName() : new Map<string, UserEntry>();
  for (const d of outer) events.push(await applyDir(d, accounts));
  const made: Event[] = new Array(inner.length);
  await forEachLimited(inner, 8, async (d, i) => {
    made[i] = await applyDir(d, accounts);
  });
  return [...events, ...made];
}

/** Refuses before the first useradd when the range cannot hold every account to make (not half of them). */
async function checkRoomForAccounts(changes: InstanceChanges): Promise<void> {
  const system = await systemIdRange();
  const uidRange = changes.accountIds ?? system.uid;
  const gidRange = changes.accountIds ?? system.gid;
  const [users, groupIds] = await Promise.all([usersByName(), groupIdsByName()]);
  const newGroups = new Set(changes.accounts.map((a) => a.userGroup).filter((g) => !groupIds.has(g)));
  const source = changes.accountIds ? 'site.account_ids' : 'SYS_UID_MIN-SYS_UID_MAX of /etc/login.defs';
  const short = [
    { what: 'uid', needed: changes.accounts.length, free: freeIds(uidRange, [...users.values()].map((u) => u.uid)), range: uidRange },
    { what: 'gid', needed: newGroups.size, free: freeIds(gidRange, groupIds.values()), range: gidRange },
  ].find((k) => k.needed > k.free);
  if (short === undefined) return;
  throw new UserError(
    `${short.needed} ${short.what}s are needed for the groups' new accounts, but only ${short.free} ${short.free === 1 ? 'is' : 'are'} free in ${short.range.min}-${short.range.max} (${source}); no account was made`,
    `set site.account_ids: {min: M, max: N} to a range no other account uses, with room for every group (e.g. {min: 200000, max: 209999}), or name accounts you made in daemon.user`,
  );
}

async function applyDir(d: InstanceChanges['dirs'][number], accounts: ReadonlyMap<string, UserEntry>): Promise<Event> {
  let owner: { uid: number; gid: number } | undefined;
  if (d.owner !== undefined) {
    const entry = accounts.get(d.owner);
    if (!entry) throw new UserError(`the account ${d.owner} that must own ${d.path} does not exist`, 'run `plexctl reconcile` as root: it creates it');
    owner = { uid: entry.uid, gid: entry.gid };
  } else if (process.getuid?.() === 0) {
    owner = { uid: 0, gid: 0 };
  }
  if (d.action === 'create') {
    try {
      // data_dir itself may need its parents; a group's directory is made only inside it.
      await mkdir(d.path, { mode: 0o700, recursive: d.group === undefined });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  await setDirAccess(d.path, d.mode, owner);
  return { kind: 'directory', action: d.action, path: d.path, mode: d.mode, ...(d.owner !== undefined ? { owner: d.owner } : {}) };
}
