/**
 * Users and groups: the parsers on fixed text, lookups in this machine's files, and creating
 * system users as root. Every user and group a test creates is deleted in its `finally`: tests
 * are the only place that deletes accounts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, it, type TestContext } from 'node:test';
import { execa } from 'execa';
import {
  ensureSystemUser,
  groupByGid,
  isValidAccountName,
  lookupGroup,
  lookupUser,
  parseGroup,
  parsePasswd,
  userByUid,
} from '../src/system/accounts.js';
import { UserError } from '../src/errors.js';

const passwdFixture = [
  'root:x:0:0:root:/root:/bin/bash',
  '# a comment',
  '',
  'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin',
  'broken:x::33:no uid:/:/bin/sh',
  'short:x:5:5',
  'colon:x:7:7:a:b:c:extra',
  '+nisuser::::::',
  'deploy:x:1000:1000:Deploy User,,,:/home/deploy:/bin/bash',
  'root:x:99:99:second root:/:/bin/sh',
].join('\n');

const groupFixture = ['root:x:0:', 'staff:x:50:alice,bob', 'bad:x:abc:', '-nisgroup', 'deploy:x:1000:'].join('\n');

describe('parsers', () => {
  it('parses /etc/passwd, skipping malformed, comment and NIS lines', () => {
    const users = parsePasswd(passwdFixture);
    assert.deepEqual(
      users.map((u) => [u.name, u.uid, u.gid]),
      [
        ['root', 0, 0],
        ['www-data', 33, 33],
        ['deploy', 1000, 1000],
        ['root', 99, 99],
      ],
    );
    assert.deepEqual(users[2], { name: 'deploy', uid: 1000, gid: 1000, gecos: 'Deploy User,,,', home: '/home/deploy', shell: '/bin/bash' });
  });

  it('parses /etc/group with its members', () => {
    assert.deepEqual(parseGroup(groupFixture), [
      { name: 'root', gid: 0, members: [] },
      { name: 'staff', gid: 50, members: ['alice', 'bob'] },
      { name: 'deploy', gid: 1000, members: [] },
    ]);
  });

  it('accepts only portable names, never one starting with -', () => {
    for (const good of ['a', '_svc', 'plex-django1', 'a'.repeat(32), 'www-data']) assert.ok(isValidAccountName(good), good);
    for (const bad of ['', '-rf', 'Root', '1abc', 'a'.repeat(33), 'a b', 'x;id', 'a/b', 'ünï', 'a\n', 'a$']) {
      assert.ok(!isValidAccountName(bad), JSON.stringify(bad));
    }
  });
});

describe('lookups on this machine', () => {
  it('finds root by name and uid, and its group', async () => {
    assert.deepEqual(await lookupUser('root'), (parsePasswd(await readFile('/etc/passwd', 'utf8'))).find((u) => u.name === 'root'));
    assert.equal((await lookupUser('root'))?.uid, 0);
    assert.equal((await userByUid(0))?.name, 'root');
    assert.equal((await lookupGroup('root'))?.gid, 0);
    assert.equal((await groupByGid(0))?.name, 'root');
    assert.equal(await lookupUser('plextest-no-such-user'), undefined);
    assert.equal(await userByUid(4_000_000_000), undefined);
  });
});

const testName = () => `plextest-${randomBytes(4).toString('hex')}`;

async function removeUser(name: string): Promise<void> {
  if (await lookupUser(name)) await execa('userdel', [name]);
}
async function removeGroup(name: string): Promise<void> {
  if (await lookupGroup(name)) await execa('groupdel', [name]);
}

function requireRoot(t: TestContext): boolean {
  if (process.getuid?.() === 0) return true;
  t.skip('creating users needs root');
  return false;
}

describe('ensureSystemUser', () => {
  it('refuses a bad name before running anything', async () => {
    for (const bad of ['-o', 'Root', '', 'x y', 'a'.repeat(33)]) {
      await assert.rejects(ensureSystemUser(bad), (e: unknown) => e instanceof UserError && /invalid user name/.test(e.message));
    }
    await assert.rejects(ensureSystemUser('plextest-ok', { group: '--badgroup' }), /invalid group name/);
    assert.equal(await lookupUser('plextest-ok'), undefined);
  });

  it('creates a system user with its own group, and finds it the second time', async (t) => {
    if (!requireRoot(t)) return;
    const name = testName();
    try {
      const first = await ensureSystemUser(name);
      assert.equal(first.created, true);
      const entry = await lookupUser(name);
      assert.deepEqual(entry, { name, uid: first.uid, gid: first.gid, gecos: '', home: '/nonexistent', shell: '/usr/sbin/nologin' });
      assert.ok(first.uid < 1000, `system uid, got ${first.uid}`);
      assert.equal((await lookupGroup(name))?.gid, first.gid);
      assert.deepEqual(await ensureSystemUser(name), { uid: first.uid, gid: first.gid, created: false });
    } finally {
      await removeUser(name);
      await removeGroup(name);
    }
    assert.equal(await lookupUser(name), undefined);
  });

  it('creates a named group when missing, uses it as the primary group, and refuses a different one later', async (t) => {
    if (!requireRoot(t)) return;
    const name = testName();
    const group = testName();
    const other = testName();
    try {
      const user = await ensureSystemUser(name, { group });
      assert.equal(user.created, true);
      assert.equal((await lookupGroup(group))?.gid, user.gid);
      assert.equal(await lookupGroup(name), undefined, 'no group of the user name');
      assert.deepEqual(await ensureSystemUser(name, { group }), { ...user, created: false });
      // An existing user is never changed: asking for another group is an error.
      await execa('groupadd', ['--system', other]);
      await assert.rejects(ensureSystemUser(name, { group: other }), /exists with primary group/);
      assert.equal((await lookupUser(name))?.gid, user.gid);
    } finally {
      await removeUser(name);
      await removeGroup(group);
      await removeGroup(other);
    }
  });

  it('does not silently join a group that happens to have the new user name', async (t) => {
    if (!requireRoot(t)) return;
    const name = testName();
    try {
      await execa('groupadd', ['--system', name]);
      await assert.rejects(ensureSystemUser(name), /a group of that name exists already/);
      assert.equal(await lookupUser(name), undefined);
    } finally {
      await removeUser(name);
      await removeGroup(name);
    }
  });

  it('concurrent calls all succeed, and exactly one says it created the user', async (t) => {
    if (!requireRoot(t)) return;
    const name = testName();
    try {
      // useradd alone exits 0 for each of them; the accounts lock makes `created` true once.
      const results = await Promise.all([1, 2, 3, 4].map(() => ensureSystemUser(name)));
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.uid)).size, 1);
    } finally {
      await removeUser(name);
      await removeGroup(name);
    }
  });
});

describe('the range accounts are made in (site.account_ids)', () => {
  it('reads SYS_UID_MIN/MAX and SYS_GID_MIN/MAX from login.defs, with useradd\'s defaults when commented out', async () => {
    const { parseSystemIdRange, freeIds, idRangeArgs } = await import('../src/system/account-ids.js');
    assert.deepEqual(parseSystemIdRange('UID_MIN 1000\n#SYS_UID_MIN 100\n#SYS_UID_MAX 999\nGID_MIN 2000\n'), { uid: { min: 101, max: 999 }, gid: { min: 101, max: 1999 } });
    assert.deepEqual(parseSystemIdRange('SYS_UID_MIN  200\nSYS_UID_MAX\t300\nSYS_GID_MIN 400\nSYS_GID_MAX 500\n'), { uid: { min: 200, max: 300 }, gid: { min: 400, max: 500 } });
    assert.equal(freeIds({ min: 100, max: 109 }, [0, 33, 100, 105, 105, 110, 65534]), 8, 'ids outside the range and duplicates do not count');
    assert.deepEqual(idRangeArgs({ min: 5, max: 9 }, ['UID', 'GID']), ['-K', 'SYS_UID_MIN=5', '-K', 'SYS_UID_MAX=9', '-K', 'SYS_GID_MIN=5', '-K', 'SYS_GID_MAX=9']);
    assert.deepEqual(idRangeArgs(undefined, ['UID']), []);
  });

  /** A window of free ids high above the system range (none of this machine's accounts is there). */
  const window = () => {
    const min = 700_000 + randomBytes(2).readUInt16BE() * 10;
    return { min, max: min + 9 };
  };

  it('makes the account and its group with ids inside the range', async (t) => {
    if (!requireRoot(t)) return;
    const name = testName();
    const ids = window();
    try {
      const made = await ensureSystemUser(name, { ids });
      assert.ok(made.uid >= ids.min && made.uid <= ids.max, `uid ${made.uid} in ${ids.min}-${ids.max}`);
      assert.ok(made.gid >= ids.min && made.gid <= ids.max, `gid ${made.gid} in ${ids.min}-${ids.max}`);
    } finally {
      await removeUser(name);
      await removeGroup(name);
    }
  });

  it('a range without room for every account: refused before the first useradd, no account made', async (t) => {
    if (!requireRoot(t)) return;
    const { applyInstanceChanges } = await import('../src/apply/instances.js');
    const names = [testName(), testName()];
    const ids = { min: window().min, max: 0 };
    ids.max = ids.min; // one id for two accounts
    try {
      await assert.rejects(
        applyInstanceChanges({ accounts: names.map((n) => ({ group: n, user: n, userGroup: n, comment: 'plexctl test' })), dirs: [], blocked: [], foreign: [], accountIds: ids }),
        (e: unknown) => e instanceof UserError && /2 uids are needed for the groups' new accounts, but only 1 is free in \d+-\d+ \(site\.account_ids\); no account was made/.test(e.message) && /site\.account_ids/.test(e.hint ?? ''),
      );
      for (const n of names) assert.equal(await lookupUser(n), undefined, `${n} was not made`);
    } finally {
      for (const n of names) {
        await removeUser(n);
        await removeGroup(n);
      }
    }
  });
});
