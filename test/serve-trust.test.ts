/**
 * `plexctl serve` trusts only its own state: a `.plexctl/serve/` another user owns or can write,
 * a symlinked or foreign httpd.conf, a symlinked or FIFO pid file, are refused before anything is
 * written or run; `serve --stop` signals only the Apache parent started with exactly this
 * httpd.conf, and never SIGKILLs. Real files and processes, run as root; the attacker is `nobody`.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serverConfig, serverPaths, stopServer } from '../src/apache/private-server.js';
import { UserError } from '../src/errors.js';
import { processIdentity } from '../src/system/processes.js';
import { freePort, inventoryYaml, makeTempDir, plexctl, requireApache, sleep } from './helpers/e2e.js';

const nobody = 65534;

/** A root-only file outside the inventory that an attacker would like plexctl to overwrite. */
let secretDir: string;
let secret: string;
before(async () => {
  secretDir = await mkdtemp(join(tmpdir(), 'plexctl-secret-'));
  secret = join(secretDir, 'root-only');
  await writeFile(secret, 'root only\n', { mode: 0o600 });
});
after(async () => {
  await rm(secretDir, { recursive: true, force: true });
});

const started: ChildProcess[] = [];
after(() => {
  for (const child of started) child.kill('SIGKILL');
});

/** A fresh inventory directory (root's, 0755) and its serve paths. */
async function inventory() {
  const dir = await makeTempDir('plexctl-serve-trust-');
  await writeFile(join(dir, 'plex.yaml'), inventoryYaml({ groups: { django1: {} }, users: { alice: 'django1' } }));
  return { dir, paths: serverPaths(dir), cli: (args: string[]) => plexctl(['-i', join(dir, 'plex.yaml'), ...args], { cwd: dir }) };
}

/** serve's directories, made as plexctl would (root's, 0755). */
async function serveDirs(paths: ReturnType<typeof serverPaths>): Promise<void> {
  await mkdir(paths.runDir, { recursive: true, mode: 0o755 });
  await mkdir(join(paths.stateDir, 'logs'), { mode: 0o755 });
}

/** Every entry under `dirs`: type, mode, owner and content hash (or link target). */
async function snapshot(...dirs: string[]): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  async function walk(path: string): Promise<void> {
    const s = await lstat(path);
    const facts = `${(s.mode >>> 0).toString(8)} ${s.uid}:${s.gid}`;
    if (s.isSymbolicLink()) seen.set(path, `${facts} -> ${await readlink(path)}`);
    else if (s.isFile()) seen.set(path, `${facts} ${createHash('sha256').update(await readFile(path)).digest('hex')} ${s.mtimeMs}`);
    else if (s.isDirectory()) {
      seen.set(path, facts);
      for (const name of await readdir(path)) await walk(join(path, name));
    } else seen.set(path, facts);
  }
  for (const dir of dirs) await walk(dir);
  return seen;
}

/** A long-running process of the test's own, started with `argv0` as its argv[0] (a symlink to node). */
async function fakeProcess(dir: string, argv0: 'apache2' | 'sleep', args: string[], options: { asNobody?: boolean; ignoreTerm?: boolean } = {}): Promise<ChildProcess> {
  const bin = join(dir, 'fake-bin');
  await mkdir(bin, { recursive: true, mode: 0o755 });
  const exe = join(bin, argv0);
  await symlink(process.execPath, exe).catch(() => undefined);
  // It says `ready` once its handler (if any) is installed and its command line is final (setpriv execs it).
  const code = `${options.ignoreTerm ? "process.on('SIGTERM', () => {});" : ''} setInterval(() => {}, 1e6); process.stdout.write('ready\\n');`;
  const argv = [exe, '-e', code, '--', ...args];
  const [file, ...rest] = options.asNobody ? ['setpriv', `--reuid=${nobody}`, `--regid=${nobody}`, '--clear-groups', ...argv] : argv;
  const child = spawn(file!, rest, { stdio: ['ignore', 'pipe', 'ignore'] });
  started.push(child);
  let timer: NodeJS.Timeout | undefined;
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => child.stdout.once('data', () => resolve(true))),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 10_000))),
  ]);
  clearTimeout(timer);
  child.stdout.resume();
  if (ready) return child;
  throw new Error(`${argv0} did not start`);
}

async function alive(child: ChildProcess): Promise<boolean> {
  return child.exitCode === null && child.signalCode === null && (await processIdentity(child.pid!)) !== undefined;
}

describe('serve trusts only its own state', () => {
  const elsewheres: string[] = [];
  after(async () => {
    for (const d of elsewheres) await rm(d, { recursive: true, force: true });
  });
  for (const [name, prepare, reason] of [
    ['owned by nobody', async (d: string) => { await mkdir(d, { mode: 0o755 }); await chown(d, nobody, nobody); }, /it is owned by uid 65534 \(nobody\), not by uid 0 \(root\) who runs plexctl/],
    ['of mode 0777', async (d: string) => { await mkdir(d); await chmod(d, 0o777); }, /it is writable by its group and by all users \(mode 0777\)/],
    ['a symlink to a directory of nobody', async (d: string) => {
      const elsewhere = await mkdtemp(join(tmpdir(), 'plexctl-elsewhere-'));
      elsewheres.push(elsewhere);
      await chown(elsewhere, nobody, nobody);
      await symlink(elsewhere, d);
    }, /it is a symbolic link, where plexctl serve keeps its own directory/],
  ] as const) {
    it(`refuses a .plexctl/serve/ ${name}, for serve and serve --stop, and changes nothing`, async () => {
      const { dir, paths, cli } = await inventory();
      await mkdir(join(dir, '.plexctl'), { mode: 0o755 });
      await prepare(paths.stateDir);
      // What an attacker who owns the directory would leave: httpd.conf pointing at a root-only
      // file, a pid file naming a process of someone else's.
      const victim = await fakeProcess(dir, 'sleep', ['300']);
      if (!(await lstat(paths.stateDir)).isSymbolicLink()) {
        await symlink(secret, paths.conf);
        await mkdir(paths.runDir);
        await writeFile(paths.pidFile, `${victim.pid}\n`);
      }
      const before = await snapshot(dir, secretDir);
      for (const args of [['serve', '--stop'], ['serve', '--detach', '--port', String(await freePort())]]) {
        const r = await cli(args);
        assert.equal(r.exitCode, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, new RegExp(`refusing ${paths.stateDir.replace(/[.]/g, '\\.')}: `));
        assert.match(r.stderr, reason);
        assert.match(r.stderr, /rm -rf /);
      }
      assert.deepEqual(await snapshot(dir, secretDir), before);
      assert.ok(await alive(victim), 'the process the pid file names was signalled');
      assert.equal(await readFile(secret, 'utf8'), 'root only\n');
      await rm(dir, { recursive: true, force: true });
    });
  }

  it('refuses a symlinked httpd.conf: its root-only target is left unchanged', async () => {
    const { dir, paths, cli } = await inventory();
    await serveDirs(paths);
    await symlink(secret, paths.conf);
    const before = await snapshot(dir, secretDir);
    for (const args of [['serve', '--detach', '--port', String(await freePort())], ['serve', '--stop']]) {
      const r = await cli(args);
      assert.equal(r.exitCode, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`refusing ${paths.conf.replace(/[.]/g, '\\.')}: it is a symbolic link`));
      assert.match(r.stderr, new RegExp(`rm ${paths.conf.replace(/[.]/g, '\\.')}`));
    }
    assert.deepEqual(await snapshot(dir, secretDir), before);
    await rm(dir, { recursive: true, force: true });
  });

  for (const [name, prepare, reason] of [
    ['written by nobody', (f: string) => chown(f, nobody, nobody), /it is owned by uid 65534 \(nobody\)/],
    ['writable by all users', (f: string) => chmod(f, 0o666), /it is writable by its group and by all users \(mode 0666\)/],
  ] as const) {
    it(`refuses an httpd.conf with an extra LoadModule ${name}, for serve --stop and serve`, async () => {
      const { dir, paths, cli } = await inventory();
      await serveDirs(paths);
      const evil = `${serverConfig(paths, 8080, join(dir, 'build/plex.conf'), true)}LoadModule evil_module ${join(dir, 'evil.so')}\n`;
      await writeFile(paths.conf, evil, { mode: 0o644 });
      await prepare(paths.conf);
      const before = await snapshot(dir);
      for (const args of [['serve', '--stop'], ['serve', '--detach', '--port', String(await freePort())]]) {
        const r = await cli(args);
        assert.equal(r.exitCode, 1, r.stderr);
        assert.match(r.stderr, new RegExp(`refusing ${paths.conf.replace(/[.]/g, '\\.')}: `));
        assert.match(r.stderr, reason);
      }
      assert.deepEqual(await snapshot(dir), before);
      await rm(dir, { recursive: true, force: true });
    });
  }

  for (const [name, prepare, reason] of [
    ['a symlink', async (f: string) => symlink('/dev/zero', f), /it is a symbolic link/],
    ['a FIFO', async (f: string) => execFileSync('mkfifo', [f]), /it is a FIFO/],
  ] as const) {
    it(`refuses a pid file that is ${name}, at once`, async () => {
      const { dir, paths, cli } = await inventory();
      await serveDirs(paths);
      await prepare(paths.pidFile);
      const t0 = Date.now();
      const r = await cli(['serve', '--stop']);
      assert.equal(r.exitCode, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`refusing ${paths.pidFile.replace(/[.]/g, '\\.')}: `));
      assert.match(r.stderr, reason);
      assert.match(r.stderr, new RegExp(`rm ${paths.pidFile.replace(/[.]/g, '\\.')}`));
      assert.ok(Date.now() - t0 < 10_000);
      await rm(dir, { recursive: true, force: true });
    });
  }

  it('serve --stop leaves alone every process a forged pid file names that is not its Apache', async () => {
    const { dir, paths, cli } = await inventory();
    await serveDirs(paths);
    await writeFile(paths.conf, serverConfig(paths, 8080, join(dir, 'build/plex.conf'), true));
    const victims = [
      await fakeProcess(dir, 'sleep', ['300']),
      await fakeProcess(dir, 'apache2', ['-f', join(dir, 'other', 'httpd.conf'), '-k', 'start']),
      await fakeProcess(dir, 'apache2', ['-f', paths.conf, '-k', 'start'], { asNobody: true }),
    ];
    for (const victim of victims) {
      await writeFile(paths.pidFile, `${victim.pid}\n`);
      const r = await cli(['serve', '--stop']);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.stdout, 'No private Apache is running for this inventory.');
      assert.match(r.stderr, new RegExp(`warning: pid ${victim.pid} in .*httpd\\.pid is not this inventory's Apache .*; it was not signalled`));
      await sleep(100);
      assert.ok(await alive(victim), `pid ${victim.pid} was signalled`);
    }
    for (const victim of victims) victim.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('serve --stop sends SIGTERM to the Apache parent started with this httpd.conf, and only to it', async () => {
    const { dir, paths, cli } = await inventory();
    await serveDirs(paths);
    await writeFile(paths.conf, serverConfig(paths, 8080, join(dir, 'build/plex.conf'), true));
    const parent = await fakeProcess(dir, 'apache2', ['-f', paths.conf, '-k', 'start']);
    await writeFile(paths.pidFile, `${parent.pid}\n`);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => parent.once('exit', (_code, signal) => resolve(signal)));
    const r = await cli(['serve', '--stop']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, `Stopped the private Apache (pid ${parent.pid}).`);
    assert.equal(await exited, 'SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });

  it('stopServer reports an Apache parent that outlives SIGTERM, and never SIGKILLs it', async () => {
    const { dir, paths } = await inventory();
    await serveDirs(paths);
    await writeFile(paths.conf, serverConfig(paths, 8080, join(dir, 'build/plex.conf'), true));
    const parent = await fakeProcess(dir, 'apache2', ['-f', paths.conf, '-k', 'start'], { ignoreTerm: true });
    await writeFile(paths.pidFile, `${parent.pid}\n`);
    await assert.rejects(stopServer(paths, 300), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.equal(error.message, `the private Apache (pid ${parent.pid}) did not exit within 0.3 s of SIGTERM; nothing else was signalled`);
      return true;
    });
    await sleep(100);
    assert.ok(await alive(parent));
    parent.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('serve writes its own state (0755 directories, a 0644 httpd.conf) and serve --stop stops the real Apache', async (t) => {
    if (!(await requireApache(t))) return;
    const { dir, paths, cli } = await inventory();
    const r = await cli(['serve', '--detach', '--port', String(await freePort())]);
    assert.equal(r.exitCode, 0, r.stderr);
    for (const d of [join(dir, '.plexctl'), paths.stateDir, paths.runDir]) {
      const s = await lstat(d);
      assert.equal(s.uid, 0);
      assert.equal(s.mode & 0o022, 0, d);
    }
    const conf = await lstat(paths.conf);
    assert.ok(conf.isFile());
    assert.equal(conf.mode & 0o7777, 0o644);
    const pid = Number((await readFile(paths.pidFile, 'utf8')).trim());
    const stop = await cli(['serve', '--stop']);
    assert.equal(stop.exitCode, 0, stop.stderr);
    assert.equal(stop.stdout, `Stopped the private Apache (pid ${pid}).`);
    assert.equal(await processIdentity(pid), undefined);
    await rm(dir, { recursive: true, force: true });
  });
});
