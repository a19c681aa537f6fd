/**
 * Local users and groups: read from /etc/passwd and /etc/group, and system users created with
 * useradd. Only the local files are read, not NSS (LDAP, sssd): the accounts plexctl creates
 * and checks are local system accounts, and reading two files needs no child process.
 *
 * Nothing here deletes or modifies an account: an existing user is reported, never changed.
 */
import { idRangeArgs, type IdRange } from './account-ids.js';
import { readFile } from 'node:fs/promises';
import { exec } from '../exec.js';
import { UserError } from '../errors.js';
import { quote } from '../inventory/quote.js';
import { acquireLock } from '../lock/file-lock.js';

export interface UserEntry {
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** A numeric id field: digits only (Number('') would be 0, root). */
function id(field: string | undefined): number | undefined {
  return field !== undefined && /^\d{1,10}$/.test(field) ? Number(field) : undefined;
}

/** Lines of a colon file, without blanks, comments and NIS `+`/`-` entries (which name no one here). */
function records(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !/^[#+-]/.test(line))
    .map((line) => line.split(':'));
}

/** /etc/passwd. A malformed line is skipped, as getpwent(3) does. */
export function parsePasswd(text: string): UserEntry[] {
  const users: UserEntry[] = [];
  for (const f of records(text)) {
    const uid = id(f[2]);
    const gid = id(f[3]);
    if (f.length !== 7 || !f[0] || uid === undefined || gid === undefined) continue;
    users.push({ name: f[0], uid, gid, gecos: f[4] ?? '', home: f[5] ?? '', shell: f[6] ?? '' });
  }
  return users;
}

/** /etc/group. A malformed line is skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const groups: GroupEntry[] = [];
  for (const f of records(text)) {
    const gid = id(f[2]);
    if (f.length !== 4 || !f[0] || gid === undefined) continue;
    groups.push({ name: f[0], gid, members: f[3] ? f[3].split(',') : [] });
  }
  return groups;
}

const passwdPath = '/etc/passwd';
const groupPath = '/etc/group';

// Read on every call, not cached: ensureSystemUser changes them, and so may an admin.
const users = async () => parsePasswd(await readFile(passwdPath, 'utf8'));
const groups = async () => parseGroup(await readFile(groupPath, 'utf8'));

/**
 * Every account by name, read once (the first entry wins, as getpwnam(3) returns it): for a
 * caller that looks up a thousand groups' accounts, which one read of /etc/passwd each would cost
 * a second. Take it after the accounts it must show were made.
 */
export async function usersByName(): Promise<Map<string, UserEntry>> {
  const table = new Map<string, UserEntry>();
  for (const entry of await users()) if (!table.has(entry.name)) table.set(entry.name, entry);
  return table;
}

/** The first entry wins, as getpwnam(3) returns it. */
export async function lookupUser(name: string): Promise<UserEntry | undefined> {
  return (await users()).find((u) => u.name === name);
}

export async function userByUid(uid: number): Promise<UserEntry | undefined> {
  return (await users()).find((u) => u.uid === uid);
}

export async function lookupGroup(name: string): Promise<GroupEntry | undefined> {
  return (await groups()).find((g) => g.name === name);
}

export async function groupByGid(gid: number): Promise<GroupEntry | undefined> {
  return (await groups()).find((g) => g.gid === gid);
}

/**
 * POSIX portable user and group names (lower case, as Debian's adduser asks). The first
 * character can never be '-', so a name is never taken for an option by useradd.
 */
const namePattern = /^[a-z_][a-z0-9_-]{0,31}$/;

export function isValidAccountName(name: string): boolean {
  return namePattern.test(name);
}

function checkName(kind: 'user' | 'group', name: string): void {
  if (!isValidAccountName(name)) {
    throw new UserError(
      `invalid ${kind} name ${quote(name)}`,
      'use 1 to 32 characters: lower-case letters, digits, _ and -, starting with a letter or _',
    );
  }
}

export interface EnsuredUser {
  uid: number;
  gid: number;
  /** False when the user already existed (it was left as it was). */
  created: boolean;
}

/** useradd and groupadd get no environment from us: no LD_PRELOAD, locale or PATH of the caller. */
const cleanEnv = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

/** useradd's and groupadd's exit code for "name already in use" (another process won a race). */
const nameInUse = 9;

async function run(file: string, args: string[]): Promise<{ exitCode: number | undefined; stderr: string }> {
  const result = await exec(file, args, {
    env: cleanEnv,
    extendEnv: false,
    stdin: 'ignore',
    reject: false,
    timeout: 60_000,
  });
  if (result.failed && result.exitCode === undefined) {
    throw new UserError(`cannot run ${file}: ${result.shortMessage}`, 'install the passwd package and run plexctl as root');
  }
  return { exitCode: result.exitCode, stderr: String(result.stderr).trim() };
}

function commandFailed(file: string, args: string[], result: { exitCode: number | undefined; stderr: string }): UserError {
  return new UserError(`${file} ${args.join(' ')} failed (exit ${result.exitCode}): ${result.stderr || 'no message'}`, 'run plexctl as root');
}

async function ensureSystemGroup(name: string, ids: IdRange | undefined): Promise<GroupEntry> {
  const existing = await lookupGroup(name);
  if (existing) return existing;
  const args = [...idRangeArgs(ids, ['GID']), '--system', name];
  const result = await run('groupadd', args);
  const group = await lookupGroup(name);
  if (group && (result.exitCode === 0 || result.exitCode === nameInUse)) return group;
  throw commandFailed('groupadd', args, result);
}

/**
 * A system user that cannot log in and has no home, created if missing: with a group of its own
 * name, or with `group` as its primary group (created as a system group if missing). A user that
 * exists already is returned as it is; if `group` is named and is not its primary group, that is
 * an error rather than a silent change.
 */
export async function ensureSystemUser(name: string, options: { group?: string; comment?: string; ids?: IdRange } = {}): Promise<EnsuredUser> {
  checkName('user', name);
  if (options.group !== undefined) checkName('group', options.group);

  const existing = await lookupUser(name);
  if (existing) return checkExisting(existing, options.group);
  const lock = await acquireLock(accountsLockPath, { timeoutMs: 60_000, pollMs: 20 });
  try {
    return await createSystemUser(name, options.group, options.comment, options.ids);
  } finally {
    await lock.release();
  }
}

/**
 * Held while looking up and creating accounts. useradd exits 0 in every one of several
 * concurrent runs for one name (measured: 4 of 4, shadow 4.13), so without it two plexctl runs
 * could both report `created`. In /run, not /run/lock: that one is world-writable, and anyone
 * could hold the lock there.
 */
const accountsLockPath = '/run/plexctl-accounts.lock';

async function createSystemUser(name: string, group: string | undefined, comment: string | undefined, ids: IdRange | undefined): Promise<EnsuredUser> {
  const existing = await lookupUser(name);
  if (existing) return checkExisting(existing, group);
  let groupArgs: string[];
  if (group !== undefined) {
    groupArgs = ['--gid', String((await ensureSystemGroup(group, ids)).gid)];
  } else {
    // useradd --user-group refuses a name whose group exists; say why, and do not join that group
    // silently: it may be someone else's.
    if (await lookupGroup(name)) {
      throw new UserError(
        `cannot create the user ${quote(name)}: a group of that name exists already`,
        `name that group as the user's group if it is meant to be theirs, or choose another name`,
      );
    }
    groupArgs = ['--user-group'];
  }
  // The comment (GECOS) says whose account it is: plexctl ends every process of an account only if it is that group's.
  const commentArgs = comment !== undefined ? ['--comment', comment.replace(/[:\n]/g, '_')] : [];
  const args = [...idRangeArgs(ids, group === undefined ? ['UID', 'GID'] : ['UID']), '--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', ...commentArgs, ...groupArgs, '--', name];
  const result = await run('useradd', args);
  const user = await lookupUser(name);
  if (result.exitCode === 0 && user) return { uid: user.uid, gid: user.gid, created: true };
  // Another tool (not plexctl, which holds the lock) created it meanwhile: there, but not by us.
  if (result.exitCode === nameInUse && user) return checkExisting(user, group);
  throw commandFailed('useradd', args, result);
}

async function checkExisting(user: UserEntry, group: string | undefined): Promise<EnsuredUser> {
  if (group !== undefined) {
    const wanted = await lookupGroup(group);
    if (wanted?.gid !== user.gid) {
      const actual = await groupByGid(user.gid);
      throw new UserError(
        `the user ${quote(user.name)} exists with primary group ${actual ? quote(actual.name) : user.gid}, not ${quote(group)}`,
        `change it yourself if that is intended (usermod -g ${group} ${user.name}); plexctl does not modify existing users`,
      );
    }
  }
  return { uid: user.uid, gid: user.gid, created: false };
}

/** Every local group's gid by name, read once (for checking many files' owners). */
export async function groupIdsByName(): Promise<Map<string, number>> {
  const table = new Map<string, number>();
  for (const g of await groups()) if (!table.has(g.name)) table.set(g.name, g.gid);
  return table;
}
