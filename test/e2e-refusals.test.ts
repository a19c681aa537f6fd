/**
 * What a new user ran into (issue #12, point 7), each against a real Apache: reconcile refuses to
 * signal an Apache whose configuration does not load the fragment; a configuration Apache rejects
 * because of another file is named as such, and every file gets back its content and its mtime;
 * `restart` never loads a script that differs from the inventory's; `serve` refuses a site that
 * Apache's user or a group's account cannot reach.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configRefusal } from '../src/reconcile/reconcile.js';
import { loadInventory } from '../src/inventory/load.js';
import { daemonPids, describeLive, freePort, httpGet, inventoryYaml, makeTempDir, plexctl, startSite, type Site, type SiteSpec } from './helpers/e2e.js';

const spec: SiteSpec = {
  groups: {
    alpha: { settings: { GREETING: 'alpha' } },
    beta: { settings: { GREETING: 'beta' } },
  },
  users: { alice: 'alpha', bob: 'beta' },
};
const addDelta = (text: string) => text.replace('users:\n', '  delta:\n    settings: {"GREETING":"delta"}\nusers:\n');
const describeRun = (r: { exitCode: number; stdout: string; stderr: string }) => `exit ${r.exitCode}\n--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`;

/** Content and mtime of every file under build/ and build/wsgi/. */
async function generated(dir: string): Promise<Record<string, { content: string; mtimeMs: number }>> {
  const files: Record<string, { content: string; mtimeMs: number }> = {};
  for (const sub of ['build', join('build', 'wsgi')]) {
    for (const name of await readdir(join(dir, sub)).catch(() => [] as string[])) {
      const path = join(dir, sub, name);
      const info = await stat(path);
      if (info.isFile()) files[path] = { content: await readFile(path, 'utf8'), mtimeMs: info.mtimeMs };
    }
  }
  return files;
}

/** The same files with the same content and mtime (restored through utimes: to well within a millisecond). */
function assertSameFiles(now: Awaited<ReturnType<typeof generated>>, before: Awaited<ReturnType<typeof generated>>, what: string): void {
  assert.deepEqual(Object.keys(now).sort(), Object.keys(before).sort(), `${what}: no file created or left behind`);
  for (const [path, was] of Object.entries(before)) {
    assert.equal(now[path]!.content, was.content, `${what}: ${path}: its content`);
    assert.ok(Math.abs(now[path]!.mtimeMs - was.mtimeMs) < 1, `${what}: ${path}: its mtime (${was.mtimeMs} -> ${now[path]!.mtimeMs})`);
  }
}

describe('the refusal messages of a rejected configuration (no Apache needed)', () => {
  it('names the file: one of plexctl\'s says fix the inventory; another file says fix that file; a fragment not loaded gives the fix', async () => {
    const dir = await makeTempDir('plexctl-refusal-');
    try {
      await writeFile(join(dir, 'plex.yaml'), inventoryYaml(spec));
      const inventory = await loadInventory(join(dir, 'plex.yaml'));
      const ours = await configRefusal({ ok: false, output: 'AH00526: ...', rejected: { file: inventory.apache.confFile, line: 3 } }, inventory);
      assert.match(ours.message, /rejected the new configuration in \S+build\/plex\.conf line 3, a file plexctl generates; every file was restored/);
      assert.match(ours.hint!, /^fix the inventory/);
      const other = await configRefusal({ ok: false, output: 'AH00526: ...', rejected: { file: '/etc/apache2/conf-enabled/x.conf', line: 1 } }, inventory);
      assert.match(other.message, /in \/etc\/apache2\/conf-enabled\/x\.conf line 1, which is not one of plexctl's files/);
      assert.match(other.hint!, /^fix \/etc\/apache2\/conf-enabled\/x\.conf \(plexctl did not write it/);
      assert.doesNotMatch(other.hint!, /inventory/);
      const notLoaded = await configRefusal({ ok: false, output: '', notLoaded: { fragment: inventory.apache.confFile, fix: 'a2enconf plex' } }, inventory);
      assert.match(notLoaded.message, /does not load \S+build\/plex\.conf: a graceful restart would serve every request without the site; every file was restored and Apache was not signalled/);
      assert.equal(notLoaded.hint, 'a2enconf plex; then run the command again');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

await describeLive('refusals that keep a live site serving', { timeout: 240_000 }, () => {
  let site: Site | undefined;
  const file = () => join(site!.dir, 'plex.yaml');
  const httpdConf = () => join(site!.dir, '.plexctl', 'serve', 'httpd.conf');
  const wsgi = (name: string) => join(site!.dir, 'build', 'wsgi', name);
  async function processes(): Promise<Record<string, number[]>> {
    const parent = await site!.parentPid();
    return { parent: [parent], alpha: await daemonPids(parent, 'alpha'), beta: await daemonPids(parent, 'beta') };
  }

  before(async () => {
    site = await startSite(spec);
  });
  after(async () => {
    await site?.stop();
  });

  it('restart refuses a group whose script differs from the inventory (says reconcile); --force restarts; status says reconcile; reconcile --dry-run exits 2', async (t) => {
    if (!site) return t.skip('no Apache');
    const original = await readFile(file(), 'utf8');
    await writeFile(file(), original.replace('{"GREETING":"alpha"}', '{"GREETING":"alpha, edited"}'));
    try {
      const procs = await processes();
      const r = await site.cli(['restart', 'alpha']);
      assert.equal(r.exitCode, 1, describeRun(r));
      assert.match(r.stderr, /not restarted: alpha would load \S+group-alpha\.wsgi \(differs from what the inventory renders\); nothing was signalled/);
      assert.match(r.stderr, /run `plexctl reconcile`/);
      assert.deepEqual(await processes(), procs, 'nothing was signalled');

      const beta = await site.cli(['restart', 'beta']);
      assert.equal(beta.exitCode, 0, `another group's scripts match: ${describeRun(beta)}`);

      // Touched after its daemons started: alpha is stale too, and its hint is reconcile, not restart.
      const now = new Date();
      await utimes(wsgi('group-alpha.wsgi'), now, now);
      const status = await site.cli(['status']);
      assert.equal(status.exitCode, 0);
      assert.match(status.stdout, /`plexctl reconcile` writes the scripts the inventory renders for alpha and restarts them/, status.stdout);
      assert.doesNotMatch(status.stdout, /`plexctl restart alpha`/, status.stdout);
      assert.match(status.stdout, /`plexctl reconcile` writes them and restarts what loads them/);

      const dry = await site.cli(['reconcile', '--dry-run']);
      assert.equal(dry.exitCode, 2, `--dry-run exits as plan does: ${describeRun(dry)}`);
      assert.match(dry.stdout, /group-alpha\.wsgi/);

      const forced = await site.cli(['restart', 'alpha', '--force']);
      assert.equal(forced.exitCode, 0, describeRun(forced));
      assert.notDeepEqual((await processes()).alpha, procs.alpha);
      assert.equal((await site.get('alice')).body.settings.GREETING, 'alpha', 'forced onto the script on disk');
    } finally {
      await writeFile(file(), original);
    }
    const clean = await site.cli(['reconcile', '--dry-run']);
    assert.equal(clean.exitCode, 0, describeRun(clean));
  });

  it('the fragment not loaded by the configuration CTL tests: reconcile refuses (the Include to add), signals nothing, restores every file; doctor FAILs', async (t) => {
    if (!site) return t.skip('no Apache');
    const original = await readFile(file(), 'utf8');
    const conf = await readFile(httpdConf(), 'utf8');
    const without = conf.split('\n').filter((line) => !(line.startsWith('Include ') && line.includes('build/plex.conf'))).join('\n');
    assert.notEqual(without, conf, 'serve\'s httpd.conf includes the fragment');
    const files = await generated(site.dir);
    const procs = await processes();
    await writeFile(httpdConf(), without);
    await writeFile(file(), addDelta(original));
    try {
      const r = await site.cli(['reconcile', '--timeout', '5']);
      assert.equal(r.exitCode, 1, describeRun(r));
      assert.match(r.stderr, /configuration \(`\/usr\/sbin\/apache2 -f \S+httpd\.conf -t`\) does not load \S+build\/plex\.conf/);
      assert.match(r.stderr, /Apache was not signalled/);
      assert.match(r.stderr, /add the line `Include "\S+build\/plex\.conf"` to \S+httpd\.conf at server level/);
      assert.doesNotMatch(r.stderr, /raise --timeout/);
      assert.deepEqual(await processes(), procs, 'neither Apache nor any daemon was signalled');
      assertSameFiles(await generated(site.dir), files, 'every file as it was, content and mtime; no group-delta.wsgi');

      const doctor = await site.cli(['doctor']);
      assert.equal(doctor.exitCode, 1, describeRun(doctor));
      assert.match(doctor.stdout, /^FAIL\s+fragment\s+\S+build\/plex\.conf is not loaded by Apache's configuration/m);
      assert.match(doctor.stdout, /fix: add the line `Include "\S+build\/plex\.conf"`/);
      assert.equal((await site.get('alice')).body.group, 'alpha');
    } finally {
      await writeFile(httpdConf(), conf);
      await writeFile(file(), original);
    }
    const doctor = await site.cli(['doctor']);
    assert.match(doctor.stdout, /^ok\s+fragment\s+\S+build\/plex\.conf is loaded/m, doctor.stdout);
    const plan = await site.cli(['plan']);
    assert.equal(plan.exitCode, 0, describeRun(plan));
  });

  it('CTL -t failing on a file that is not plexctl\'s: the message names it (not "fix the inventory"); every file gets back its content and mtime, so the next plan has nothing to do', async (t) => {
    if (!site) return t.skip('no Apache');
    const original = await readFile(file(), 'utf8');
    const conf = await readFile(httpdConf(), 'utf8');
    const broken = join(site.dir, 'other', 'broken.conf');
    await mkdir(join(site.dir, 'other'), { recursive: true });
    await writeFile(broken, '# not plexctl\'s\nPlexctlBogusDirective on\n');
    const files = await generated(site.dir);
    const procs = await processes();
    await writeFile(httpdConf(), `${conf}Include "${broken}"\n`);
    await writeFile(file(), addDelta(original).replace('{"GREETING":"alpha"}', '{"GREETING":"alpha, refused"}'));
    try {
      const r = await site.cli(['reconcile']);
      assert.equal(r.exitCode, 1, describeRun(r));
      assert.match(r.stderr, new RegExp(`Apache rejected the new configuration in ${broken.replaceAll('.', '\\.')} line 2, which is not one of plexctl's files; every file was restored and Apache was not signalled`));
      assert.match(r.stderr, /AH00526: Syntax error on line 2 of \S+broken\.conf/, 'Apache\'s own message');
      assert.match(r.stderr, new RegExp(`fix ${broken.replaceAll('.', '\\.')} \\(plexctl did not write it`));
      assert.doesNotMatch(r.stderr, /fix the inventory/);
      assert.deepEqual(await processes(), procs, 'nothing was signalled');
      assertSameFiles(await generated(site.dir), files, 'after the refusal');
    } finally {
      await writeFile(httpdConf(), conf);
      await writeFile(file(), original);
      await rm(join(site.dir, 'other'), { recursive: true, force: true });
    }
    const plan = await site.cli(['plan']);
    assert.equal(plan.exitCode, 0, `nothing to do, no graceful restart of every group: ${describeRun(plan)}`);
    assert.equal((await site.get('alice')).body.settings.GREETING, 'alpha');
  });
});

await describeLive('serve checks that Apache\'s user and every group\'s account can reach the site', { timeout: 120_000 }, () => {
  it('a site under a 0700 directory: serve refuses with the path and the chmod (no Apache started); after the chmod it serves', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('as root only: otherwise Apache and the daemons run as the user running plexctl');
    const outer = await mkdtemp(join(tmpdir(), 'plexctl-private-')); // 0700, as /root is
    const dir = join(outer, 'site');
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    const cli = (args: string[], input?: string) => plexctl(args, { cwd: dir, ...(input !== undefined ? { input } : {}) });
    try {
      await writeFile(join(dir, 'plex.yaml'), inventoryYaml(spec));
      assert.equal((await cli(['user', 'passwd', 'alice', '--password-stdin'], 'alice-pw\n')).exitCode, 0);
      const port = await freePort();
      const r = await cli(['serve', '--detach', '--port', String(port)]);
      assert.equal(r.exitCode, 1, describeRun(r));
      assert.doesNotMatch(r.stdout, /Serving/);
      assert.match(r.stderr, /not started: every request would fail/);
      assert.match(r.stderr, new RegExp(`www-data, t[0-9a-z]+-alpha, t[0-9a-z]+-beta cannot search ${outer} \\(mode 0700`));
      assert.match(r.stderr, new RegExp(`chmod o\\+x ${outer}`));
      await assert.rejects(readFile(join(dir, '.plexctl', 'serve', 'run', 'httpd.pid')), 'no Apache was started');

      await chmod(outer, 0o711);
      const served = await cli(['serve', '--detach', '--port', String(port)]);
      assert.equal(served.exitCode, 0, describeRun(served));
      assert.equal((await httpGet(`http://127.0.0.1:${port}/`, 'alice', 'alice-pw')).body.group, 'alpha');
    } finally {
      await cli(['serve', '--stop']);
      await rm(outer, { recursive: true, force: true });
    }
  });
});
