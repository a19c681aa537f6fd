/**
 * The core promise, through a real Apache + mod_wsgi + Django: every user lands in their own
 * process group with that group's env and settings; nobody else gets in.
 */
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { daemonPids, describeLive, eventually, startSite, testAccountPrefix, type Site } from './helpers/e2e.js';

const spec = {
  groups: {
    django1: { env: { DEMO_DB: 'data/one.sqlite3' }, settings: { GREETING: 'one', DEBUG: false } },
    django2: { env: { DEMO_DB: 'data/two.sqlite3' }, settings: { GREETING: 'two "quoted" \\ ${X} %{Y}' } },
    django3: { env: { DEMO_DB: 'data/three é.sqlite3' }, settings: { GREETING: 'three\nlines' } },
  },
  users: { alice: 'django1', bob: 'django2', carol: 'django3' },
};

await describeLive('a real Apache serving the rendered configuration', { timeout: 120_000 }, () => {
  let site: Site | undefined;

  before(async () => {
    // mallory has a password but no map entry.
    site = await startSite({ ...spec, users: spec.users }, ['alice', 'bob', 'carol']);
    const extra = await site.cli(['user', 'passwd', 'alice', '--password-stdin'], 'alice-pw\n');
    assert.equal(extra.exitCode, 0, extra.stderr);
  });
  after(async () => site?.stop());

  it('routes each user to their own group, with that group\'s env and settings', async (t) => {
    if (!site) return t.skip('no Apache');
    const uids = new Set<number>();
    for (const [user, group] of Object.entries(spec.users)) {
      const { status, body } = await site.get(user);
      assert.equal(status, 200, `${user}: ${JSON.stringify(body)}`);
      assert.equal(body.group, group);
      assert.equal(body.remote_user, user);
      assert.equal(body.application_group, '', 'requests run in the main interpreter (%{GLOBAL}) where the settings were loaded');
      const groupSpec = spec.groups[group as keyof typeof spec.groups];
      assert.deepEqual(body.env, { ...groupSpec.env, PLEXCTL_DATA_DIR: join(site.dir, 'data', group) });
      assert.equal(body.settings.GREETING, groupSpec.settings.GREETING);
      uids.add(body.uid);
    }
    // Per-group isolation: as root, three groups run as three accounts, neither root nor Apache's user.
    if (process.getuid?.() === 0) {
      assert.equal(uids.size, 3, 'each group its own uid');
      const wwwData = Number((await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith('www-data:'))!.split(':')[2]);
      for (const uid of uids) assert.ok(uid !== 0 && uid !== wwwData, `uid ${uid} is neither root nor www-data`);
    }
    const daemons = await site.get('alice');
    assert.deepEqual(await daemonPids(await site.parentPid(), 'django1'), [daemons.body.pid]);
  });

  it('as root, every generated file and data directory has the owner and mode of the README\'s table', async (t) => {
    if (!site) return t.skip('no Apache');
    if (process.getuid?.() !== 0) return t.skip('needs root: owners are set only as root');
    const names = new Map<number, string>();
    for (const line of (await readFile('/etc/passwd', 'utf8')).split('\n')) names.set(Number(line.split(':')[2]), line.split(':')[0]!);
    const groupNames = new Map<number, string>();
    for (const line of (await readFile('/etc/group', 'utf8')).split('\n')) groupNames.set(Number(line.split(':')[2]), line.split(':')[0]!);
    const facts = async (path: string) => {
      const info = await stat(path);
      return `${names.get(info.uid)}:${groupNames.get(info.gid)} ${(info.mode & 0o7777).toString(8).padStart(4, '0')}`;
    };
    const d = site.dir;
    const account = (g: string) => `${testAccountPrefix}${g}`;
    const expected: [string, string][] = [
      ['build/plex.conf', 'root:root 0644'],
      ['build/wsgi', 'root:root 0755'],
      ['build/wsgi/site.wsgi', 'root:root 0644'],
      ...Object.keys(spec.groups).map((g): [string, string] => [`build/wsgi/group-${g}.wsgi`, `root:${account(g)} 0640`]),
      ['build/wsgi/procmap.txt', 'root:www-data 0640'],
      ['build/htpasswd', 'root:www-data 0640'],
      ['data', 'root:root 0711'],
      ...Object.keys(spec.groups).map((g): [string, string] => [`data/${g}`, `${account(g)}:${account(g)} 0700`]),
    ];
    for (const [path, want] of expected) assert.equal(await facts(join(d, path)), want, path);
  });

  it('answers 401 without valid credentials and 403 to an authenticated user with no map entry', async (t) => {
    if (!site) return t.skip('no Apache');
    assert.equal((await site.get()).status, 401);
    assert.equal((await site.get('alice', 'wrong')).status, 401);
    assert.equal((await site.get('nobody', 'nobody-pw')).status, 401);
    // An htpasswd entry without a procmap entry.
    const htpasswd = join(site.dir, 'build', 'htpasswd');
    const aliceLine = (await readFile(htpasswd, 'utf8')).split('\n').find((l) => l.startsWith('alice:'))!;
    await writeFile(htpasswd, `${await readFile(htpasswd, 'utf8')}mallory:${aliceLine.slice('alice:'.length)}\n`);
    const mallory = await site.get('mallory', 'alice-pw');
    assert.equal(mallory.status, 403, JSON.stringify(mallory.body));
    // Leave user_file as the inventory says (plan would rightly report mallory's entry).
    await writeFile(htpasswd, (await readFile(htpasswd, 'utf8')).replace(/^mallory:.*\n/m, ''));
  });

  it('sends a user\'s very next request to their new group after the inventory changes and render runs, without restarting Apache', async (t) => {
    if (!site) return t.skip('no Apache');
    const parent = await site.parentPid();
    assert.equal((await site.get('alice')).body.group, 'django1');
    const inventory = join(site.dir, 'plex.yaml');
    await writeFile(inventory, (await readFile(inventory, 'utf8')).replace('alice: django1', 'alice: django3'));
    assert.equal((await site.cli(['plan'])).exitCode, 2, 'plan reports the pending change');
    const rendered = await site.cli(['render']);
    assert.equal(rendered.exitCode, 0, rendered.stderr);
    assert.match(rendered.stdout, /procmap\.txt/);
    const next = await site.get('alice');
    assert.equal(next.status, 200);
    assert.equal(next.body.group, 'django3');
    assert.equal(next.body.settings.GREETING, spec.groups.django3.settings.GREETING);
    assert.equal(await site.parentPid(), parent, 'Apache was not restarted');
    assert.equal((await site.cli(['plan'])).exitCode, 0, 'plan is clean right after render');
  });

  it('fails closed: a group whose settings script did not run never serves with the default settings', async (t) => {
    if (!site) return t.skip('no Apache');
    const script = join(site.dir, 'build', 'wsgi', 'group-django2.wsgi');
    const original = await readFile(script, 'utf8');
    // A settings script that dies half-way, after DJANGO_SETTINGS_MODULE is set.
    await writeFile(script, original.replace('_settings = importlib', "raise RuntimeError('broken on purpose')\n_settings = importlib"));
    const parent = await site.parentPid();
    const [old] = await daemonPids(parent, 'django2');
    process.kill(old!, 'SIGINT');
    await eventually(async () => {
      const pids = await daemonPids(parent, 'django2');
      return pids.length === 1 && pids[0] !== old ? pids : undefined;
    }, 15000, 'django2 to respawn');
    for (let i = 0; i < 3; i++) {
      const response: { status: number; body: unknown } = await site.get('bob');
      assert.equal(response.status, 500, `bob must not be served: ${JSON.stringify(response.body)}`);
    }
    await writeFile(script, original);
    const [broken] = await daemonPids(parent, 'django2');
    process.kill(broken!, 'SIGINT');
    const healed = await eventually(async () => {
      const r = await site!.get('bob');
      return r.status === 200 ? r : undefined;
    }, 15000, 'django2 to serve again');
    assert.equal(healed.body.settings.GREETING, spec.groups.django2.settings.GREETING);
  });
});
