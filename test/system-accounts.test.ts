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
