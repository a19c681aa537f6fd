/**
 * A hostile tenant on a live private Apache + mod_wsgi + Django, as root (where each group runs as
 * its own account): from inside alice's group (tenant1), the test site
 * (test/fixtures/hostile-site) tries to reach bob's group (tenant2), plexctl's files and other
 * processes, to pass for another group by rewriting its process title, and to outlive its tenancy
 * with a double-forked process. Every attack must fail because the operating system refuses it;
 * the sanity test shows the same operations succeed on the tenant's own data.
 */
import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { daemonPids, describeLive, eventually, httpGet, repoRoot, sleep, startSite, type CliResult, type Site, type SiteSpec } from './helpers/e2e.js';
import { isRunning } from './helpers/hostile.js';

const hostileSite = { pythonPath: [join(repoRoot, 'test', 'fixtures', 'hostile-site')], settingsModule: 'hostile.settings' };
const rootOnly = process.getuid?.() === 0 ? {} : { skip: 'needs root: only as root does each group run as its own account (plex-GROUP), which is what these tests attack' };

interface Whoami {
  group: string;
  pid: number;
  uid: number;
  PLEXCTL_DATA_DIR: string;
}
interface Attack {
  op: string;
  ok: boolean;
  result?: any;
  error?: string;
  whoami: Whoami;
}

/** One request to /attack as `user`; the attack ran when the answer is 200 with a JSON body. */
async function attack(site: Site, user: string, op: string, params: Record<string, string | number> = {}): Promise<Attack> {
  const query = new URLSearchParams({ op, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) });
  const response = await httpGet(`${site.url}attack?${query}`, user, `${user}-pw`);
  assert.equal(response.status, 200, `${op} as ${user}: HTTP ${response.status} ${JSON.stringify(response.body).slice(0, 400)}\n${await errorLog(site)}`);
  assert.equal(typeof response.body, 'object', `${op} as ${user}: not JSON`);
  return response.body as Attack;
}

async function whoami(site: Site, user: string): Promise<Whoami> {
  const response = await site.get(user);
  assert.equal(response.status, 200, `${user}: HTTP ${response.status}\n${await errorLog(site)}`);
  return response.body as Whoami;
}

/** The attack ran in `group` and the operating system refused it. */
function assertRefused(a: Attack, group: string, what: string, error: RegExp = /^PermissionError: /): void {
  assert.equal(a.whoami.group, group, `${what}: the attack ran in ${a.whoami.group}, not ${group}`);
  assert.equal(a.ok, false, `${what} SUCCEEDED from ${group} (uid ${a.whoami.uid}, pid ${a.whoami.pid}): result ${JSON.stringify(a.result)}`);
  assert.match(a.error ?? '', error, `${what} failed, but not because it was refused: ${a.error}`);
}

function assertDone(a: Attack, what: string): void {
  assert.equal(a.ok, true, `${what} failed: ${a.error}`);
}

async function errorLog(site: Site, lines = 25): Promise<string> {
  const text = await readFile(join(site.dir, '.plexctl', 'serve', 'logs', 'error.log'), 'utf8').catch(() => '');
  return `--- last lines of error.log:\n${text.trimEnd().split('\n').slice(-lines).join('\n')}`;
}

const show = (r: CliResult) => `exit ${r.exitCode}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** The real uid of a live process. */
async function uidOf(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const m = status && /^Uid:\s+(\d+)/m.exec(status);
  return m ? Number(m[1]) : undefined;
}

/** argv[0] of a live process, as ps shows it (mod_wsgi's padding removed). */
async function titleOf(pid: number): Promise<string | undefined> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  return cmdline?.split('\0')[0]!.trimEnd();
}

async function gone(pid: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await isRunning(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** Double-forked processes the tenants left behind: whatever happens, none outlives the suite. */
const sleepers = new Set<number>();
function killSleepers(): void {
  for (const pid of sleepers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
  sleepers.clear();
}
process.once('exit', killSleepers);

/** From inside `user`'s group: leave a double-forked `sleep 3600` behind; its pid, checked to be alive and of that group's account. */
async function leaveSleeper(site: Site, user: string): Promise<number> {
  const a = await attack(site, user, 'sleeper');
  assertDone(a, `${user}'s double fork`);
  const pid = a.result as number;
  sleepers.add(pid);
  assert.ok(await isRunning(pid), `the double-forked process ${pid} runs`);
  assert.equal(await uidOf(pid), a.whoami.uid, 'it runs as the group\'s account');
  return pid;
}

await describeLive('a hostile tenant cannot reach another group (live, as root)', { timeout: 120_000, ...rootOnly }, () => {
  const spec: SiteSpec = {
    groups: { tenant1: {}, tenant2: {} },
    users: { alice: 'tenant1', bob: 'tenant2' },
    site: hostileSite,
  };
  let site: Site | undefined;
  let bob: Whoami;
  let bobDir: string;
  const wsgiDir = () => join(site!.dir, 'build', 'wsgi');

  before(async () => {
    site = await startSite(spec);
    bob = await whoami(site, 'bob');
    bobDir = bob.PLEXCTL_DATA_DIR;
    // Bob's instance makes what alice will go after: a file and a database with a row.
    assertDone(await attack(site, 'bob', 'write', { path: join(bobDir, 'secret.txt'), data: 'bob secret' }), 'bob writes his own file');
    assertDone(await attack(site, 'bob', 'sqlite', { path: join(bobDir, 'bob.sqlite3'), sql: "create table notes(body text); insert into notes values ('bob');" }), 'bob creates his database');
  });
  after(async () => {
    killSleepers();
    await site?.stop();
  });

  const bobRows = async () => {
    const a = await attack(site!, 'bob', 'sqlite', { path: join(bobDir, 'bob.sqlite3'), sql: '', select: 'select body from notes order by rowid' });
    assertDone(a, 'bob reads his database');
    return a.result as string[][];
  };

  it('sanity: each group runs as its own account, and alice can read, write and list her own data directory', async () => {
    const alice = await whoami(site!, 'alice');
    assert.equal(alice.group, 'tenant1');
    assert.equal(bob.group, 'tenant2');
    assert.notEqual(alice.uid, 0, 'not root');
    assert.notEqual(alice.uid, bob.uid, 'tenant1 and tenant2 run as different accounts');
    assert.equal(alice.PLEXCTL_DATA_DIR, join(site!.dir, 'data', 'tenant1'));
    assert.equal(bobDir, join(site!.dir, 'data', 'tenant2'));
    const own = alice.PLEXCTL_DATA_DIR;
    assertDone(await attack(site!, 'alice', 'write', { path: join(own, 'mine.txt'), data: 'alice' }), 'alice writes her own file');
    const read = await attack(site!, 'alice', 'read', { path: join(own, 'mine.txt') });
    assertDone(read, 'alice reads her own file');
    assert.equal(read.result, 'alice');
    const listed = await attack(site!, 'alice', 'listdir', { path: own });
    assertDone(listed, 'alice lists her own data directory');
    assert.ok((listed.result as string[]).includes('mine.txt'));
    assertDone(await attack(site!, 'alice', 'sqlite', { path: join(own, 'alice.sqlite3'), sql: "create table t(x); insert into t values (1);" }), 'alice uses her own database');
    assertDone(await attack(site!, 'alice', 'kill', { pid: alice.pid, sig: 0 }), 'alice signals her own daemon (signal 0)');
    assert.deepEqual(await bobRows(), [['bob']]);
  });

  it("cannot list tenant2's data directory", async () => {
    assertRefused(await attack(site!, 'alice', 'listdir', { path: bobDir }), 'tenant1', "listing tenant2's data directory");
  });

  it("cannot read a file in tenant2's data directory", async () => {
    assertRefused(await attack(site!, 'alice', 'read', { path: join(bobDir, 'secret.txt') }), 'tenant1', "reading tenant2's secret.txt");
  });

  it("cannot write into tenant2's data directory (neither a new file nor an existing one)", async () => {
    assertRefused(await attack(site!, 'alice', 'write', { path: join(bobDir, 'planted.txt'), data: 'from alice' }), 'tenant1', "creating a file in tenant2's data directory");
    assert.deepEqual(await readdir(bobDir).then((names) => names.filter((n) => n === 'planted.txt')), [], 'nothing was created there');
    assertRefused(await attack(site!, 'alice', 'write', { path: join(bobDir, 'secret.txt'), data: 'from alice' }), 'tenant1', "appending to tenant2's secret.txt");
    assert.equal(await readFile(join(bobDir, 'secret.txt'), 'utf8'), 'bob secret');
  });

  it("cannot open tenant2's SQLite database and insert a row", async () => {
    const a = await attack(site!, 'alice', 'sqlite', { path: join(bobDir, 'bob.sqlite3'), sql: "insert into notes values ('from alice');" });
    assertRefused(a, 'tenant1', "inserting into tenant2's database", /^(OperationalError: unable to open database file|PermissionError: )/);
    assert.deepEqual(await bobRows(), [['bob']], "tenant2's table holds only its own row");
  });

  it("cannot read tenant2's settings script wsgi_dir/group-tenant2.wsgi", async () => {
    const script = join(wsgiDir(), 'group-tenant2.wsgi');
    assert.match(await readFile(script, 'utf8'), /PLEXCTL_DATA_DIR/, 'the script exists (root reads it)');
    assertRefused(await attack(site!, 'alice', 'read', { path: script }), 'tenant1', 'reading group-tenant2.wsgi');
  });

  it('cannot read user_file (build/htpasswd)', async () => {
    assertRefused(await attack(site!, 'alice', 'read', { path: join(site!.dir, 'build', 'htpasswd') }), 'tenant1', 'reading the password file');
  });

  it('cannot read wsgi_dir/procmap.txt', async () => {
    assertRefused(await attack(site!, 'alice', 'read', { path: join(wsgiDir(), 'procmap.txt') }), 'tenant1', 'reading procmap.txt');
  });

  it("cannot signal tenant2's daemon (signal 0, SIGKILL); bob is still served by the same process", async () => {
    assertRefused(await attack(site!, 'alice', 'kill', { pid: bob.pid, sig: 0 }), 'tenant1', `signal 0 to tenant2's daemon ${bob.pid}`);
    assertRefused(await attack(site!, 'alice', 'kill', { pid: bob.pid, sig: 9 }), 'tenant1', `SIGKILL to tenant2's daemon ${bob.pid}`);
    await sleep(200);
    assert.ok(await isRunning(bob.pid), `tenant2's daemon ${bob.pid} still runs`);
    assert.equal((await whoami(site!, 'bob')).pid, bob.pid, 'bob is served by the same daemon');
  });

  for (const title of ['(wsgi:tenant2)', '(wsgi:ghost)']) {
    it(`a daemon that retitles itself ${title} is only a suspect note: plan changes nothing, and restart tenant1 still replaces it`, async () => {
      const baseline = await site!.cli(['plan']);
      assert.equal(baseline.exitCode, 0, `the site is in order before the attack: ${show(baseline)}`);
      const retitled = await attack(site!, 'alice', 'retitle', { title });
      assertDone(retitled, `retitling alice's daemon ${title}`);
      const pid = retitled.whoami.pid;
      assert.equal(retitled.whoami.group, 'tenant1');
      assert.equal(await titleOf(pid), title, `ps shows the daemon ${pid} as ${title}`);

      const plan = await site!.cli(['plan']);
      assert.equal(plan.exitCode, 0, `plan asks for nothing: ${show(plan)}`);
      assert.doesNotMatch(plan.stdout, /graceful restart/, 'no graceful restart');
      assert.doesNotMatch(plan.stdout, /restart group/, 'no group restart');
      assert.doesNotMatch(plan.stdout, /not in the inventory|no daemon runs/, 'neither a stray nor a missing daemon');
      assert.match(plan.stdout, new RegExp(`suspect process ${pid}\\b`), `the retitled process is a suspect note: ${plan.stdout}`);
      const json = JSON.parse((await site!.cli(['plan', '--json'])).stdout);
      assert.equal(json.pending, false);
      assert.deepEqual(json.graceful, []);
      assert.deepEqual(json.restart, []);
      assert.deepEqual(json.strayDaemons, []);
      assert.deepEqual(json.missingDaemons, []);
      assert.deepEqual(json.suspect.map((s: { pid: number }) => s.pid), [pid], 'only the retitled process is suspect');
      const status = await site!.cli(['status']);
      assert.match(status.stdout, new RegExp(`suspect: pid ${pid}\\b`), `status reports it too: ${show(status)}`);
      assert.equal((await whoami(site!, 'bob')).pid, bob.pid, 'tenant2 untouched');

      const restarted = await site!.cli(['restart', 'tenant1', '--json']);
      assert.equal(restarted.exitCode, 0, `restart tenant1: ${show(restarted)}\n${await errorLog(site!)}`);
      const report = JSON.parse(restarted.stdout);
      assert.deepEqual(report.groups[0].oldPids, [pid], 'restart tenant1 found the retitled daemon by its account');
      assert.ok(await gone(pid), `the retitled process ${pid} is gone after the restart`);
      const alice = await whoami(site!, 'alice');
      assert.notEqual(alice.pid, pid, 'alice is served by a new daemon');
      assert.deepEqual(report.groups[0].newPids, [alice.pid]);
      assert.equal(await titleOf(alice.pid), '(wsgi:tenant1)');
      assert.equal((await whoami(site!, 'bob')).pid, bob.pid, 'tenant2 untouched by the restart');
      const clean = await site!.cli(['plan']);
      assert.equal(clean.exitCode, 0, show(clean));
      assert.doesNotMatch(clean.stdout, /suspect/, 'no suspect left');
    });
  }
});

// Groups named apart from the suite above: one test process shares one account prefix, and an
// account made for another inventory's group is never treated as this one's (its processes are not ended).
await describeLive('a group that loses its last user is released (live, as root)', { timeout: 120_000, ...rootOnly }, () => {
  const spec: SiteSpec = {
    groups: { leaver1: {}, leaver2: {}, leaver3: {}, leaver4: {} },
    users: { alice: 'leaver1', bob: 'leaver2', carol: 'leaver3', erin: 'leaver4' },
    site: hostileSite,
  };
  let site: Site | undefined;
  const dataDir = () => join(site!.dir, 'data');
  const released = () => join(dataDir(), '.released');

  before(async () => {
    site = await startSite(spec);
  });
  after(async () => {
    killSleepers();
    await site?.stop();
  });

  /** The one archive of `group` under .released/, checked to hold `file` with `content`. */
  async function assertArchived(group: string, file: string, content: string): Promise<string> {
    const info = await stat(released());
    assert.equal(info.mode & 0o777, 0o700, `.released is mode 0700, not ${(info.mode & 0o777).toString(8)}`);
    assert.equal(info.uid, 0, '.released is owned by root');
    const archives = (await readdir(released())).filter((n) => n.startsWith(`${group}-`));
    assert.equal(archives.length, 1, `one archive of ${group}: ${archives.join(', ')}`);
    assert.match(archives[0]!, new RegExp(`^${group}-\\d{8}T\\d{6}Z-[0-9a-f]{6}$`));
    const archive = join(released(), archives[0]!);
    assert.equal(await readFile(join(archive, file), 'utf8'), content, `the archive holds the last tenant's ${file}`);
    return archive;
  }

  /** The fresh data directory of `group`: empty, 0700, owned by the group's account (`uid`). */
  async function assertFreshDir(group: string, uid: number): Promise<void> {
    const dir = join(dataDir(), group);
    assert.deepEqual(await readdir(dir), [], `${group}'s data directory is empty`);
    const info = await stat(dir);
    assert.equal(info.mode & 0o777, 0o700);
    assert.equal(info.uid, uid, `${dir} is owned by the group's account`);
  }

  /** A tenant's file and a double-forked process, made from inside its group before it leaves. */
  async function occupy(user: string): Promise<{ me: Whoami; sleeper: number; file: string }> {
    const me = await whoami(site!, user);
    const file = `${user}.txt`;
    assertDone(await attack(site!, user, 'write', { path: join(me.PLEXCTL_DATA_DIR, file), data: `${user}'s data` }), `${user} writes her file`);
    return { me, sleeper: await leaveSleeper(site!, user), file };
  }

  async function newDaemon(group: string, old: number): Promise<number> {
    const parent = await site!.parentPid();
    return eventually(async () => {
      const pids = await daemonPids(parent, group);
      return pids.length > 0 && !pids.includes(old) ? pids[0] : undefined;
    }, 15_000, `a new daemon of ${group}`);
  }

  it("user remove of leaver1's last user, then user add dave to leaver1: dave gets a fresh instance", async () => {
    const { me: alice, sleeper, file } = await occupy('alice');
    const removed = await site!.cli(['user', 'remove', 'alice']);
    assert.equal(removed.exitCode, 0, `user remove alice: ${show(removed)}\n${await errorLog(site!)}`);
    assert.equal((await site!.get('alice')).status, 401, 'alice is locked out');
    assert.ok(!(await isRunning(sleeper)), `the double-forked process ${sleeper} alice's instance left behind still runs after user remove`);
    const archive = await assertArchived('leaver1', file, "alice's data");
    assert.equal(await readFile(join(archive, 'sleeper.pid'), 'utf8'), String(sleeper));
    assert.ok(!(await isRunning(alice.pid)), `alice's daemon ${alice.pid} was ended`);
    await assertFreshDir('leaver1', alice.uid);

    const added = await site!.cli(['user', 'add', 'dave', '--group', 'leaver1', '--password-stdin'], 'dave-pw\n');
    assert.equal(added.exitCode, 0, `user add dave: ${show(added)}\n${await errorLog(site!)}`);
    const dave = await whoami(site!, 'dave');
    assert.equal(dave.group, 'leaver1');
    assert.notEqual(dave.pid, alice.pid, "dave's daemon is not alice's");
    assert.equal(dave.uid, alice.uid, "leaver1's account");
    assert.equal(dave.PLEXCTL_DATA_DIR, alice.PLEXCTL_DATA_DIR);
    const listed = await attack(site!, 'dave', 'listdir', { path: dave.PLEXCTL_DATA_DIR });
    assertDone(listed, 'dave lists his data directory');
    assert.deepEqual(listed.result, [], "dave's PLEXCTL_DATA_DIR is empty: nothing of alice's");
    assertRefused(await attack(site!, 'dave', 'listdir', { path: released() }), 'leaver1', 'listing .released');
    assertRefused(await attack(site!, 'dave', 'read', { path: join(archive, file) }), 'leaver1', "reading alice's archived file");
  });

  it("user move of leaver3's last user releases leaver3", async () => {
    const { me: carol, sleeper, file } = await occupy('carol');
    const bob = await whoami(site!, 'bob');
    const moved = await site!.cli(['user', 'move', 'carol', '--group', 'leaver2']);
    assert.equal(moved.exitCode, 0, `user move carol: ${show(moved)}\n${await errorLog(site!)}`);
    assert.ok(!(await isRunning(sleeper)), `the double-forked process ${sleeper} carol's instance left behind still runs after user move`);
    await assertArchived('leaver3', file, "carol's data");
    await assertFreshDir('leaver3', carol.uid);
    const fresh = await newDaemon('leaver3', carol.pid);
    assert.equal(await uidOf(fresh), carol.uid);
    assert.ok(!(await isRunning(carol.pid)), `leaver3's old daemon ${carol.pid} was ended`);
    const now = await whoami(site!, 'carol');
    assert.equal(now.group, 'leaver2', 'carol is served by leaver2 now');
    assert.equal(now.uid, bob.uid);
  });

  it("reconcile after a hand edit that removes leaver4's last user releases leaver4", async () => {
    const { me: erin, sleeper, file } = await occupy('erin');
    const inventory = join(site!.dir, 'plex.yaml');
    const text = await readFile(inventory, 'utf8');
    assert.match(text, /^ {2}erin: leaver4\n/m);
    await writeFile(inventory, text.replace(/^ {2}erin: leaver4\n/m, ''));
    const plan = await site!.cli(['plan']);
    assert.equal(plan.exitCode, 2, show(plan));
    assert.match(plan.stdout, /release group leaver4/, plan.stdout);
    const reconciled = await site!.cli(['reconcile']);
    assert.equal(reconciled.exitCode, 0, `reconcile: ${show(reconciled)}\n${await errorLog(site!)}`);
    assert.equal((await site!.get('erin')).status, 401, 'erin is locked out');
    assert.ok(!(await isRunning(sleeper)), `the double-forked process ${sleeper} erin's instance left behind still runs after reconcile`);
    await assertArchived('leaver4', file, "erin's data");
    await assertFreshDir('leaver4', erin.uid);
    await newDaemon('leaver4', erin.pid);
    assert.ok(!(await isRunning(erin.pid)), `leaver4's old daemon ${erin.pid} was ended`);
    const again = await site!.cli(['plan']);
    assert.equal(again.exitCode, 0, `nothing left to do: ${show(again)}`);
  });
});
