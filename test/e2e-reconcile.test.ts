/** reconcile and plan against a live private Apache: idempotence, drift repair, graceful restarts, refusals. */
import assert from 'node:assert/strict';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { daemonPids, describeLive, httpGet, inventoryYaml, startSite, type Site, type SiteSpec } from './helpers/e2e.js';

const spec: SiteSpec = {
  groups: {
    django1: { settings: { GREETING: 'one' } },
    django2: { settings: { GREETING: 'two' } },
  },
  users: { alice: 'django1', bob: 'django2' },
};

await describeLive('reconcile on a live server', { timeout: 240_000 }, () => {
  let site: Site | undefined;
  let current: SiteSpec = spec;
  const managed = () => ['build/plex.conf', 'build/wsgi/site.wsgi', 'build/wsgi/group-django1.wsgi', 'build/wsgi/group-django2.wsgi', 'build/wsgi/procmap.txt', 'build/htpasswd'].map((f) => join(site!.dir, f));
  const setInventory = async (next: SiteSpec) => {
    current = next;
    await writeFile(join(site!.dir, 'plex.yaml'), inventoryYaml(next));
  };
  const pids = async (group: string) => daemonPids(await site!.parentPid(), group);

  before(async () => {
    site = await startSite(spec);
  });
  after(async () => site?.stop());

  it('a second reconcile writes nothing, signals nothing and prints nothing with --quiet', async (t) => {
    if (!site) return t.skip('no Apache');
    const first = await site.cli(['reconcile']);
    assert.equal(first.exitCode, 0, first.stderr);
    const mtimes = await Promise.all(managed().map(async (f) => (await stat(f)).mtimeMs));
    const before = { d1: await pids('django1'), d2: await pids('django2') };
    const second = await site.cli(['reconcile', '--quiet']);
    assert.equal(second.exitCode, 0, second.stderr);
    assert.equal(second.stdout, '');
    assert.equal(second.stderr, '');
    assert.deepEqual(await Promise.all(managed().map(async (f) => (await stat(f)).mtimeMs)), mtimes, 'no managed file was touched');
    assert.deepEqual({ d1: await pids('django1'), d2: await pids('django2') }, before, 'no daemon was signalled');
    assert.equal((await site.cli(['plan'])).exitCode, 0);
  });

  it('drift: plan names each problem and exits 2; reconcile repairs them', async (t) => {
    if (!site) return t.skip('no Apache');
    const procmap = join(site.dir, 'build/wsgi/procmap.txt');
    await writeFile(procmap, (await readFile(procmap, 'utf8')).replace('alice django1', 'alice django2'));
    await rm(join(site.dir, 'build/wsgi/group-django2.wsgi'));
    const htpasswd = join(site.dir, 'build/htpasswd');
    const aliceHash = (await readFile(htpasswd, 'utf8')).split('\n').find((l) => l.startsWith('alice:'))!.slice('alice:'.length);
    await writeFile(htpasswd, `${await readFile(htpasswd, 'utf8')}intruder:${aliceHash}\n`);
    assert.equal((await site.get('alice')).body.group, 'django2', 'the hand edit took effect');
    assert.equal((await site.get('intruder', 'alice-pw')).status, 403);

    const plan = await site.cli(['plan']);
    assert.equal(plan.exitCode, 2);
    assert.match(plan.stdout, /update .*procmap\.txt/);
    assert.match(plan.stdout, /create .*group-django2\.wsgi/);
    assert.match(plan.stdout, /remove intruder from user_file/);

    const repaired = await site.cli(['reconcile']);
    assert.equal(repaired.exitCode, 0, repaired.stderr);
    for (const line of repaired.stdout.trim().split('\n')) assert.match(line, /^\d{4}-\d\d-\d\dT\S+Z \S/, 'one timestamped line per action');
    assert.equal((await site.get('alice')).body.group, 'django1');
    assert.equal((await site.get('bob')).body.group, 'django2');
    assert.equal((await site.get('intruder', 'alice-pw')).status, 401);
    assert.equal((await site.cli(['plan'])).exitCode, 0);
  });

  it('a changed group script restarts only that group', async (t) => {
    if (!site) return t.skip('no Apache');
    const before = { d1: await pids('django1'), d2: await pids('django2'), parent: await site.parentPid() };
    await setInventory({ ...current, groups: { ...current.groups, django2: { settings: { GREETING: 'two, changed' } } } });
    const r = await site.cli(['reconcile']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /restarted django2/);
    assert.deepEqual(await pids('django1'), before.d1);
    assert.notDeepEqual(await pids('django2'), before.d2);
    assert.equal(await site.parentPid(), before.parent);
    assert.equal((await site.get('bob')).body.settings.GREETING, 'two, changed');
  });

  it('a new group and user: config test, graceful restart, and the new user is served by the new group', async (t) => {
    if (!site) return t.skip('no Apache');
    const parent = await site.parentPid();
    await setInventory({ groups: { ...current.groups, django3: { settings: { GREETING: 'three' } } }, users: { ...current.users, carol: 'django3' } });
    const plan = await site.cli(['plan']);
    assert.match(plan.stdout, /graceful restart of Apache, which restarts EVERY group/);
    const r = await site.cli(['reconcile']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /graceful restart of Apache/);
    assert.match(r.stdout, /every group serves again/);
    assert.equal((await site.cli(['user', 'passwd', 'carol', '--password-stdin'], 'carol-pw\n')).exitCode, 0);
    const carol = await site.get('carol');
    assert.equal(carol.body.group, 'django3');
    assert.equal(carol.body.settings.GREETING, 'three');
    assert.equal(await site.parentPid(), parent, 'a graceful restart keeps the parent');
    assert.equal((await site.cli(['reconcile', '--quiet'])).stdout, '');
  });

  it('an inventory Apache rejects: exit 1 with Apache\'s message, conf_file unchanged, no failed request meanwhile', async (t) => {
    if (!site) return t.skip('no Apache');
    // A socket-user that does not exist: Apache looks it up when it reads the configuration
    // (plexctl creates only the accounts the groups run as, so it stays missing).
    if (process.getuid?.() !== 0) return t.skip('needs root: Apache checks daemon user= only when started as root');
    const conf = join(site.dir, 'build/plex.conf');
    const before = await readFile(conf);
    let stop = false;
    const failures: string[] = [];
    let requests = 0;
    const loop = (async () => {
      while (!stop && requests < 5000) {
        for (const user of ['alice', 'bob']) {
          const r = await httpGet(site!.url, user, `${user}-pw`).catch((e: Error) => ({ status: 0, body: e.message }));
          requests++;
          if (r.status !== 200) failures.push(`${user}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
        }
      }
    })();
    await setInventory({ ...current, groups: { ...current.groups, django2: { ...current.groups.django2, daemon: { 'socket-user': 'no-such-user-plexctl' } } } });
    const r = await site.cli(['reconcile']);
    stop = true;
    await loop;
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /Apache rejected the new configuration/);
    assert.match(r.stderr, /no-such-user-plexctl/, 'Apache\'s own message');
    assert.deepEqual(await readFile(conf), before, 'conf_file is byte for byte the old one');
    assert.ok(requests > 0);
    assert.deepEqual(failures, [], 'no request failed while reconcile ran');
    assert.equal((await site.get('bob')).status, 200);
  });
});
