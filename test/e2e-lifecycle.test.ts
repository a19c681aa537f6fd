/** The user lifecycle and restart on a live private Apache + mod_wsgi + Django. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { validateInventoryText } from '../src/inventory/validate.js';
import { daemonPids, describeLive, startSite, type Site } from './helpers/e2e.js';

const spec = {
  groups: {
    django1: { settings: { GREETING: 'one' } },
    django10: { settings: { GREETING: 'ten' } },
    django2: { settings: { GREETING: 'two' } },
    spare: { settings: { GREETING: 'spare' } },
  },
  users: { alice: 'django1', bob: 'django10', carol: 'django2' },
};
const groups = Object.keys(spec.groups);

await describeLive('user lifecycle on a live server', { timeout: 180_000 }, () => {
  let site: Site | undefined;
  const file = () => join(site!.dir, 'plex.yaml');
  const procmap = () => readFile(join(site!.dir, 'build', 'wsgi', 'procmap.txt'), 'utf8');
  const htpasswd = () => readFile(join(site!.dir, 'build', 'htpasswd'), 'utf8');
  async function pidsByGroup(): Promise<Record<string, number[]>> {
    const parent = await site!.parentPid();
    return Object.fromEntries(await Promise.all(groups.map(async (g) => [g, await daemonPids(parent, g)] as const)));
  }

  before(async () => {
    site = await startSite(spec);
  });
  after(async () => site?.stop());

  it('user add to a ready group (never used): the user logs in and lands there within 2 s; nothing restarted', async (t) => {
    if (!site) return t.skip('no Apache');
    const parent = await site.parentPid();
    const before = await pidsByGroup();
    const original = await readFile(file(), 'utf8');
    const added = await site.cli(['user', 'add', 'dave', '--password-stdin'], 'dave-pw\n');
    const returned = Date.now();
    assert.equal(added.exitCode, 0, added.stderr + added.stdout);
    assert.doesNotMatch(added.stdout + added.stderr, /dave-pw/, 'the password never appears in output');
    let response = await site.get('dave');
    while (response.status !== 200 && Date.now() - returned < 2000) response = await site.get('dave');
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.ok(Date.now() - returned < 2000, 'served within 2 s of the command returning');
    assert.equal(response.body.group, 'spare', 'the first group with no user');
    assert.equal(response.body.settings.GREETING, 'spare');
    const afterwards = await pidsByGroup();
    // spare's daemon has served nobody since Apache started it: it is already a fresh instance.
    for (const g of groups) assert.deepEqual(afterwards[g], before[g], `${g} was not restarted`);
    assert.equal(await site.parentPid(), parent, 'Apache itself was not restarted');
    assert.match(added.stdout, /restart\s+not needed/);
    // The inventory changed by exactly one added line.
    const edited = await readFile(file(), 'utf8');
    assert.deepEqual(edited.split('\n').filter((l) => !original.split('\n').includes(l)), ['  dave: spare']);
    assert.match(await procmap(), /^dave spare$/m);
    assert.match(await htpasswd(), /^dave:\$2y\$/m);
  });

  it('user remove: the user gets 401 as soon as the command returns and is gone from procmap.txt; the inventory is as before the add', async (t) => {
    if (!site) return t.skip('no Apache');
    const beforeAdd = (await readFile(file(), 'utf8')).replace('  dave: spare\n', '');
    const removed = await site.cli(['user', 'remove', 'dave']);
    assert.equal(removed.exitCode, 0, removed.stderr + removed.stdout);
    assert.equal((await site.get('dave')).status, 401);
    assert.doesNotMatch(await procmap(), /^dave /m);
    assert.doesNotMatch(await htpasswd(), /^dave:/m);
    assert.equal(await readFile(file(), 'utf8'), beforeAdd, 'byte for byte the text it had before the add');
    assert.match(removed.stdout, /password\s+done[\s\S]*procmap\s+done[\s\S]*inventory\s+done/, 'access is revoked first');
  });

  it('user move: the next request lands in the new group, without restarting Apache', async (t) => {
    if (!site) return t.skip('no Apache');
    const parent = await site.parentPid();
    const before = await pidsByGroup();
    assert.equal((await site.get('carol')).body.group, 'django2');
    const moved = await site.cli(['user', 'move', 'carol', '--group', 'django1']);
    assert.equal(moved.exitCode, 0, moved.stderr + moved.stdout);
    const next = await site.get('carol');
    assert.equal(next.body.group, 'django1');
    assert.equal(next.body.settings.GREETING, 'one');
    assert.equal(await site.parentPid(), parent);
    // carol was django2's last user: django2 is released (fresh daemons); no other group restarts.
    const after = await pidsByGroup();
    assert.deepEqual({ ...after, django2: before.django2 }, before, 'no other group restarted: no script changed');
    assert.notDeepEqual(after.django2, before.django2, 'django2, left without users, was released');
    assert.match(moved.stdout, /release\s+done: .*released django2/);
  });

  it('restart django1 changes only django1\'s PIDs, never django10\'s', async (t) => {
    if (!site) return t.skip('no Apache');
    const before = await pidsByGroup();
    const restarted = await site.cli(['restart', 'django1', '--json']);
    assert.equal(restarted.exitCode, 0, restarted.stderr + restarted.stdout);
    const report = JSON.parse(restarted.stdout);
    const afterwards = await pidsByGroup();
    assert.deepEqual(report.groups[0].oldPids, before.django1);
    assert.deepEqual(report.groups[0].newPids, afterwards.django1);
    assert.notDeepEqual(afterwards.django1, before.django1);
    for (const g of groups.filter((g) => g !== 'django1')) assert.deepEqual(afterwards[g], before[g], `${g} untouched`);
    assert.equal((await site.get('alice')).body.group, 'django1', 'the group serves again');
    const unknown = await site.cli(['restart', 'django3']);
    assert.equal(unknown.exitCode, 1);
    assert.match(unknown.stderr, /group "django3" is not in the inventory/);
  });

  it('ten user add in parallel all land in the inventory, procmap.txt and user_file; comments stay', async (t) => {
    if (!site) return t.skip('no Apache');
    const names = Array.from({ length: 10 }, (_, i) => `par${i}`);
    const results = await Promise.all(names.map((n) => site!.cli(['user', 'add', n, '--group', 'django2', '--password-stdin'], `${n}-pw\n`)));
    for (const r of results) assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const text = await readFile(file(), 'utf8');
    assert.match(text, /^site: {2}# test inventory$/m, 'comments intact');
    const validation = validateInventoryText(file(), text);
    assert.deepEqual(validation.problems, []);
    const users = validation.inventory!.users.map((u) => u.user);
    const map = await procmap();
    const passwords = await htpasswd();
    for (const n of names) {
      assert.ok(users.includes(n), `${n} in the inventory`);
      assert.match(map, new RegExp(`^${n} django2$`, 'm'));
      assert.match(passwords, new RegExp(`^${n}:\\$2y\\$`, 'm'));
    }
    const listed = JSON.parse((await site.cli(['user', 'list', '--json'])).stdout);
    assert.equal(listed.filter((r: { password: boolean }) => r.password).length, listed.length);
    assert.equal((await site.get('par7')).body.group, 'django2');
  });

  it('refuses bad requests with exit 1 and changes nothing', async (t) => {
    if (!site) return t.skip('no Apache');
    const original = await readFile(file(), 'utf8');
    const map = await procmap();
    for (const args of [
      ['user', 'add', 'alice'],
      ['user', 'add', 'bad name'],
      ['user', 'add', 'x', '--group', 'nosuch'],
      ['user', 'move', 'nobody', '--group', 'django1'],
      ['user', 'remove', 'nobody'],
      ['user', 'add'],
    ]) {
      const r = await site.cli(args);
      assert.equal(r.exitCode, 1, `${args.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, /plexctl: |error: /);
    }
    assert.equal(await readFile(file(), 'utf8'), original);
    assert.equal(await procmap(), map);
  });
});
