/**
 * Crash consistency: plexctl is SIGKILLed at random moments (seeded, reproducible) during
 * `reconcile` and during `user add` against a live private Apache. After every kill each managed
 * file holds its old or its new complete content, no temp file or lock blocks the next run, the
 * next `reconcile --lock-timeout 5` converges (`plan` exits 0 after it) and the site answers as
 * the inventory says.
 *
 * PLEXCTL_CRASH_SEED picks another seed; PLEXCTL_CRASH_TRIALS another number of trials per phase.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { execa } from 'execa';
import { validateInventoryText } from '../src/inventory/validate.js';
import type { Inventory } from '../src/inventory/types.js';
import { setUserGroup } from '../src/inventory/edit.js';
import { renderFiles } from '../src/render/generated-files.js';
import { parseHtpasswd, withEntry } from '../src/apache/htpasswd.js';
import { describeLive, httpGet, inventoryYaml, startSite, type Site, type SiteSpec } from './helpers/e2e.js';
import { describeRun, isAlive, prng, readOrUndefined, runPlexctl, snapshot, spawnPlexctl, tempFiles, type Finished } from './helpers/hostile.js';

const seed = Number(process.env.PLEXCTL_CRASH_SEED ?? 20250611);
const trials = Number(process.env.PLEXCTL_CRASH_TRIALS ?? 30);

// Two states that differ in a group's settings (alpha: a group restart), in users (u3 or u4
// loses its password, u2 moves) and in a group (gamma: the fragment changes, a graceful restart).
const stateA: SiteSpec = {
  groups: { alpha: { settings: { GREETING: 'alpha one' } }, beta: { settings: { GREETING: 'beta' } } },
  users: { u1: 'alpha', u2: 'beta', u3: 'alpha' },
};
const stateB: SiteSpec = {
  groups: { alpha: { settings: { GREETING: 'alpha two' } }, beta: { settings: { GREETING: 'beta' } }, gamma: { settings: { GREETING: 'gamma' } } },
  users: { u1: 'alpha', u2: 'gamma', u4: 'beta' },
};
// For the user add trials: an empty group, so that an add to it restarts it.
const stateU: SiteSpec = {
  groups: { ...stateA.groups, spare: { settings: { GREETING: 'spare' } } },
  users: { ...stateA.users },
};
const allGroups = ['alpha', 'beta', 'gamma', 'spare'];
const passwordOf = (user: string) => `${user}-pw`;

interface Old {
  inventory: Inventory;
  text: string;
  htpasswd: string;
  modes: Map<string, { mode: number; uid: number; gid: number }>;
}

interface Stats {
  killed: number;
  finishedFirst: number;
  mixed: number;
  lockLeft: number;
  tempLeft: number;
  delays: number[];
}
const newStats = (): Stats => ({ killed: 0, finishedFirst: 0, mixed: 0, lockLeft: 0, tempLeft: 0, delays: [] });

await describeLive('crash consistency: SIGKILL during reconcile and user add', { timeout: 900_000 }, () => {
  let site: Site | undefined;
  // One stream per phase, so a phase draws the same fractions whatever happened in the other.
  const randomFor = { reconcile: prng(seed), add: prng(seed + 1) };
  const entries = new Map<string, string>(); // user -> bcrypt line, made once
  const file = () => join(site!.dir, 'plex.yaml');
  const wsgiDir = () => join(site!.dir, 'build', 'wsgi');
  const userFile = () => join(site!.dir, 'build', 'htpasswd');
  const confFile = () => join(site!.dir, 'build', 'plex.conf');
  const generatedPathsAll = () => [
    confFile(),
    join(wsgiDir(), 'site.wsgi'),
    join(wsgiDir(), 'procmap.txt'),
    ...allGroups.map((g) => join(wsgiDir(), `group-${g}.wsgi`)),
  ];
  const dirs = () => [site!.dir, wsgiDir(), join(site!.dir, 'build')];

  function inventoryOf(text: string): Inventory {
    const v = validateInventoryText(file(), text);
    assert.deepEqual(v.problems, [], 'the inventory validates');
    return v.inventory!;
  }
  const desiredOf = (inventory: Inventory) => new Map(renderFiles(inventory).map((f) => [f.path, f.content]));

  async function bcryptLine(user: string): Promise<string> {
    let line = entries.get(user);
    if (!line) {
      const r = await execa('/usr/bin/htpasswd', ['-n', '-i', '-B', user], { input: passwordOf(user) });
      line = r.stdout.split('\n')[0]!;
      entries.set(user, line);
    }
    return line;
  }

  /** Give every inventory user of the pool a password entry again (reconcile removed it earlier). */
  async function topUpPasswords(inventory: Inventory, pool: string[]): Promise<void> {
    let text = (await readOrUndefined(userFile())) ?? '';
    const have = parseHtpasswd(text).users;
    for (const { user } of inventory.users) {
      if (pool.includes(user) && !have.has(user)) text = withEntry(text, user, await bcryptLine(user));
    }
    await writeFile(userFile(), text); // in place: keeps plexctl's mode and owner
  }

  async function writeInventory(text: string): Promise<void> {
    const temp = `${file()}.test-tmp`;
    await writeFile(temp, text);
    await rename(temp, file());
  }

  async function currentFiles(): Promise<Old> {
    const text = await readFile(file(), 'utf8');
    const modes: Old['modes'] = new Map();
    for (const path of [file(), userFile(), ...generatedPathsAll()]) {
      const info = await stat(path).catch(() => undefined);
      if (info) modes.set(path, { mode: info.mode & 0o7777, uid: info.uid, gid: info.gid });
    }
    return { inventory: inventoryOf(text), text, htpasswd: (await readOrUndefined(userFile())) ?? '', modes };
  }

  /** Each managed file is its old or its new complete content; nothing unexpected lies around. */
  async function checkAfterKill(
    what: string,
    killed: Finished & { pid: number },
    old: Old,
    allowedInventoryTexts: string[],
    allowedHtpasswd: (text: string) => boolean,
    next: Inventory,
  ): Promise<{ mixed: boolean; lockLeft: boolean; tempLeft: boolean }> {
    const text = await readFile(file(), 'utf8');
    assert.ok(allowedInventoryTexts.includes(text), `${what}: plex.yaml is neither its old nor its new content:\n${text}`);
    inventoryOf(text);
    const oldFiles = desiredOf(old.inventory);
    const newFiles = desiredOf(next);
    let olds = 0;
    let news = 0;
    if (allowedInventoryTexts.length > 1) {
      if (text === old.text) olds++;
      else news++;
    }
    // An atomic replacement keeps the file's mode and owner.
    for (const [path, before] of old.modes) {
      const info = await stat(path).catch(() => undefined);
      if (info) assert.deepEqual({ mode: info.mode & 0o7777, uid: info.uid, gid: info.gid }, before, `${what}: ${path} keeps its mode and owner`);
    }
    const now = await snapshot(generatedPathsAll());
    for (const [path, content] of now) {
      const allowed = [oldFiles.get(path), newFiles.get(path)];
      assert.ok(
        allowed.includes(content),
        `${what}: ${path} is neither its old nor its new content (${content === undefined ? 'absent' : `${content.length} bytes, ends ${JSON.stringify(content.slice(-80))}`})`,
      );
      if (content !== undefined) assert.ok(content.length > 0, `${what}: ${path} is empty`);
      if (oldFiles.get(path) !== newFiles.get(path)) {
        if (content === oldFiles.get(path)) olds++;
        else news++;
      }
    }
    // The generated files also parse: procmap lines are `user group`, scripts end with the template's last line.
    const procmap = now.get(join(wsgiDir(), 'procmap.txt'))!;
    for (const line of procmap.split('\n').filter((l) => l && !l.startsWith('#'))) assert.match(line, /^\S+ (alpha|beta|gamma|spare)$/, `${what}: procmap line`);
    for (const [path, content] of now) {
      if (path.endsWith('site.wsgi')) assert.ok(content!.endsWith('application = get_wsgi_application()\n'), `${what}: ${path} complete`);
      else if (path.endsWith('.wsgi') && content !== undefined) assert.ok(content.endsWith("sys.modules['plexctl_instance'] = _instance\n"), `${what}: ${path} complete`);
    }
    const htpasswd = (await readOrUndefined(userFile())) ?? '';
    assert.ok(allowedHtpasswd(htpasswd), `${what}: user_file is neither its old nor its new content:\n${htpasswd}\nold:\n${old.htpasswd}`);
    if (htpasswd !== old.htpasswd) news++;
    else olds++;
    for (const line of htpasswd.split('\n').filter(Boolean)) assert.match(line, /^[^:\s]+:\$2y\$\d\d\$[./A-Za-z0-9]{53}$/, `${what}: user_file line`);
    // No file other than the generated ones in wsgi_dir, apart from the dead process's temp files.
    const known = new Set(generatedPathsAll());
    for (const name of await readdir(wsgiDir())) {
      const path = join(wsgiDir(), name);
      if (name.endsWith('.plexctl-tmp')) continue;
      assert.ok(known.has(path), `${what}: unexpected file ${path}`);
    }
    // Temp files and the lock, if left, belong to the killed process: they cannot block anyone.
    const temps = await tempFiles(dirs());
    for (const temp of temps) assert.match(temp, new RegExp(`\\.${killed.pid}-[0-9a-f]+\\.plexctl-tmp$`), `${what}: a temp file not of the killed plexctl`);
    const lock = await readOrUndefined(`${file()}.lock`);
    if (lock !== undefined && lock !== '') assert.equal(JSON.parse(lock).pid, killed.pid, `${what}: the lock left is the killed plexctl's`);
    assert.equal(isAlive(killed.pid), false);
    return { mixed: olds > 0 && news > 0, lockLeft: lock !== undefined, tempLeft: temps.length > 0 };
  }

  /** The next reconcile takes over the lock and converges; plan is then clean; the site answers as the inventory says. */
  async function recoverAndCheck(what: string): Promise<void> {
    const r = await runPlexctl(site!.dir, ['reconcile', '--lock-timeout', '5']);
    assert.equal(r.code, 0, `${what}: recovery reconcile: ${describeRun(r)}`);
    const plan = await runPlexctl(site!.dir, ['plan']);
    assert.equal(plan.code, 0, `${what}: plan after the recovery: ${describeRun(plan)}`);
    assert.deepEqual(await tempFiles(dirs()), [], `${what}: temp files left after the next run`);
    assert.equal(await readOrUndefined(`${file()}.lock`), undefined, `${what}: lock file left`);
    assert.equal(await readOrUndefined(`${file()}.lock.break`), undefined, `${what}: lock claim left`);
    const inventory = inventoryOf(await readFile(file(), 'utf8'));
    const desired = desiredOf(inventory);
    for (const [path, content] of await snapshot(generatedPathsAll())) {
      assert.equal(content, desired.get(path), `${what}: ${path} after the recovery`);
    }
    const passwords = parseHtpasswd((await readOrUndefined(userFile())) ?? '').users;
    for (const u of passwords.keys()) assert.ok(inventory.users.some((m) => m.user === u), `${what}: ${u} has a password but is not in the inventory`);
    const greeting = (group: string) => inventory.groups.find((g) => g.name === group)!.settings.find(([k]) => k === 'GREETING')?.[1];
    for (const { user, group } of inventory.users) {
      const response = await httpGet(site!.url, user, passwordOf(user));
      if (!passwords.has(user)) {
        assert.equal(response.status, 401, `${what}: ${user} has no password`);
        continue;
      }
      assert.equal(response.status, 200, `${what}: ${user}: ${JSON.stringify(response.body).slice(0, 300)}`);
      assert.equal(response.body.group, group, `${what}: ${user} is served by its group`);
      assert.equal(response.body.remote_user, user);
      assert.equal(response.body.settings.GREETING, greeting(group), `${what}: ${user}'s group runs its current settings`);
    }
  }

  async function timedRun(args: string[], input = ''): Promise<number> {
    const r = await runPlexctl(site!.dir, args, input);
    assert.equal(r.code, 0, `${args.join(' ')}: ${describeRun(r)}`);
    return r.ms;
  }

  async function killAt(args: string[], input: string, delayMs: number, stats: Stats): Promise<Finished & { pid: number }> {
    const run = spawnPlexctl(site!.dir, args, input);
    const timer = setTimeout(() => run.child.kill('SIGKILL'), delayMs);
    const hardStop = setTimeout(() => run.child.kill('SIGKILL'), 120_000);
    const finished = await run.done;
    clearTimeout(timer);
    clearTimeout(hardStop);
    stats.delays.push(Math.round(delayMs));
    if (finished.signal === 'SIGKILL') stats.killed++;
    else {
      stats.finishedFirst++;
      assert.equal(finished.code, 0, `${args.join(' ')} finished before the kill but failed: ${describeRun(finished)}`);
    }
    return { ...finished, pid: run.pid };
  }

  before(async () => {
    site = await startSite(stateA);
  });
  after(async () => site?.stop());

  it(`reconcile killed at ${trials} random moments`, async (t) => {
    if (!site) return t.skip('no Apache');
    const pool = ['u1', 'u2', 'u3', 'u4'];
    const texts = { A: inventoryYaml(stateA), B: inventoryYaml(stateB) };
    // Measure the typical duration of a reconcile between the two states (it is a graceful restart).
    await writeInventory(texts.B);
    const toB = await timedRun(['reconcile']);
    await topUpPasswords(inventoryOf(texts.B), pool);
    await writeInventory(texts.A);
    const toA = await timedRun(['reconcile']);
    await topUpPasswords(inventoryOf(texts.A), pool);
    const typical = Math.max(toA, toB);
    t.diagnostic(`seed ${seed}; reconcile takes ${toB} ms (A->B) and ${toA} ms (B->A); kills drawn in [0, ${typical}] ms`);
    await recoverAndCheck('before the trials');

    const stats = newStats();
    let state: 'A' | 'B' = 'A';
    const started = Date.now();
    for (let i = 0; i < trials; i++) {
      const target: 'A' | 'B' = state === 'A' ? 'B' : 'A';
      const what = `trial ${i} (reconcile ${state} -> ${target})`;
      const old = await currentFiles();
      const next = inventoryOf(texts[target]);
      let expectedHtpasswd = old.htpasswd;
      for (const u of parseHtpasswd(old.htpasswd).users.keys()) {
        if (!next.users.some((m) => m.user === u)) expectedHtpasswd = withEntry(expectedHtpasswd, u, undefined);
      }
      assert.notEqual(expectedHtpasswd, old.htpasswd, `${what}: the trial removes a password entry`);
      await writeInventory(texts[target]);
      // Drawn from the first 60% of a typical run: one slow measurement must not let most runs finish first.
      const delay = randomFor.reconcile() * typical * 0.6;
      const killed = await killAt(['reconcile'], '', delay, stats);
      const outcome = await checkAfterKill(`${what}, killed after ${Math.round(delay)} ms`, killed, old, [texts[target]], (h) => h === old.htpasswd || h === expectedHtpasswd, next);
      if (outcome.mixed) stats.mixed++;
      if (outcome.lockLeft) stats.lockLeft++;
      if (outcome.tempLeft) stats.tempLeft++;
      await recoverAndCheck(what);
      await topUpPasswords(next, pool);
      state = target;
    }
    t.diagnostic(
      `reconcile: ${trials} trials in ${Math.round((Date.now() - started) / 1000)} s; killed ${stats.killed}, finished before the kill ${stats.finishedFirst}, ` +
        `old and new files mixed ${stats.mixed}, lock left ${stats.lockLeft}, temp files left ${stats.tempLeft}; delays ${stats.delays.join(',')}`,
    );
    assert.ok(stats.killed >= trials / 3, 'at least a third of the trials were real kills');
  });

  it(`user add killed at ${trials} random moments`, async (t) => {
    if (!site) return t.skip('no Apache');
    await writeInventory(inventoryYaml(stateU));
    await timedRun(['reconcile']);
    await topUpPasswords(inventoryOf(inventoryYaml(stateU)), ['u1', 'u2', 'u3']);
    // Measure both kinds: an add to the empty group (inventory, restart, map, password) and to an occupied one (no restart).
    const typicalEmpty = await timedRun(['user', 'add', 'm0', '--password-stdin'], `${passwordOf('m0')}\n`);
    const inventoryNow = inventoryOf(await readFile(file(), 'utf8'));
    assert.equal(inventoryNow.users.find((u) => u.user === 'm0')?.group, 'spare');
    await timedRun(['user', 'move', 'm0', '--group', 'alpha']);
    const typicalOccupied = await timedRun(['user', 'add', 'm1', '--group', 'beta', '--password-stdin'], `${passwordOf('m1')}\n`);
    t.diagnostic(`seed ${seed}; user add takes ${typicalEmpty} ms to an empty group, ${typicalOccupied} ms to an occupied one; kills drawn in [0, that]`);

    const stats = newStats();
    const started = Date.now();
    for (let i = 0; i < trials; i++) {
      const name = `n${i}`;
      const toEmpty = i % 3 === 0;
      const old = await currentFiles();
      const oldText = old.text;
      const group = toEmpty ? old.inventory.groups.find((g) => !old.inventory.users.some((u) => u.group === g.name))!.name : ['alpha', 'beta'][i % 2]!;
      if (toEmpty) assert.equal(group, 'spare');
      const newText = setUserGroup(oldText, name, group);
      const next = inventoryOf(newText);
      const what = `trial ${i} (user add ${name}${toEmpty ? '' : ` --group ${group}`})`;
      const args = ['user', 'add', name, ...(toEmpty ? [] : ['--group', group]), '--password-stdin'];
      const delay = randomFor.add() * (toEmpty ? typicalEmpty : typicalOccupied) * 0.6;
      const killed = await killAt(args, `${passwordOf(name)}\n`, delay, stats);
      const entry = new RegExp(`^${name}:\\$2y\\$\\d\\d\\$[./A-Za-z0-9]{53}\\n$`);
      const outcome = await checkAfterKill(
        `${what}, killed after ${Math.round(delay)} ms`,
        killed,
        old,
        [oldText, newText],
        (h) => h === old.htpasswd || (h.startsWith(old.htpasswd) && entry.test(h.slice(old.htpasswd.length))),
        next,
      );
      if (outcome.mixed) stats.mixed++;
      if (outcome.lockLeft) stats.lockLeft++;
      if (outcome.tempLeft) stats.tempLeft++;
      await recoverAndCheck(what);
      // Empty the spare group again for the next add to it (a move restarts nothing).
      const after = inventoryOf(await readFile(file(), 'utf8'));
      if (after.users.some((u) => u.user === name && u.group === 'spare')) await timedRun(['user', 'move', name, '--group', 'beta']);
    }
    t.diagnostic(
      `user add: ${trials} trials in ${Math.round((Date.now() - started) / 1000)} s; killed ${stats.killed}, finished before the kill ${stats.finishedFirst}, ` +
        `old and new files mixed ${stats.mixed}, lock left ${stats.lockLeft}, temp files left ${stats.tempLeft}; delays ${stats.delays.join(',')}`,
    );
    assert.ok(stats.killed >= trials / 3, 'at least a third of the trials were real kills');
    await recoverAndCheck('after the user add trials');
  });
});
