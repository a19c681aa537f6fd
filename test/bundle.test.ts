/**
 * The bundled CLI (dist/plexctl.cjs and its code cache, made by `npm run build`): bin/plexctl.js
 * runs it with the cache V8 accepts; a cache that is not the bundle's own, that V8 refuses, or that
 * someone could write who cannot write the bundle is never used; a bundle older than the modules
 * it was made from is not run; and the bundle answers exactly as the modules in dist/src do.
 */
import assert from 'node:assert/strict';
import { chmod, chown, cp, mkdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import load from '../src/bundle/load.cjs';
import type { Io } from '../src/io.js';
import { inventoryYaml, makeTempDir, repoRoot } from './helpers/e2e.js';

const distDir = join(repoRoot, 'dist');
const bin = join(repoRoot, 'bin', 'plexctl.js');
type Cli = { main(argv: string[], io: Io): Promise<number> };

function captureIo(): Io & { text: () => string } {
  let text = '';
  return { out: (t) => void (text += t), err: (t) => void (text += t), text: () => text };
}

async function run(cli: Cli, args: string[]): Promise<{ code: number; text: string }> {
  const io = captureIo();
  const code = await cli.main(['node', 'plexctl', ...args], io);
  return { code, text: io.text() };
}
const validateDemo = (cli: Cli) => run(cli, ['-i', join(repoRoot, 'examples', 'demo', 'plex.yaml'), 'validate']);

/** V8's data in a cache file (after its header line). */
const dataOf = (cache: Buffer) => cache.subarray(cache.indexOf(0x0a) + 1);

/** The bundle loaded from `dir`, which must have run from the bundle itself. */
function loadBundle(dir: string): { exports: Cli; codeCache: string } {
  const loaded = load.loadBundledCli<Cli>(dir);
  assert.equal(loaded.kind, 'bundle', JSON.stringify(loaded));
  return loaded as { exports: Cli; codeCache: string };
}

describe('the bundled CLI', () => {
  let dir: string;
  let builtSource: Buffer;
  let builtCache: Buffer;
  before(async () => {
    dir = await makeTempDir();
    builtSource = await readFile(join(distDir, load.bundleFileName));
    builtCache = await readFile(join(distDir, load.cacheFileName));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  /**
   * A dist/ of its own: the modules, then (newer than them) `source` as the bundle, and beside it
   * a cache of V8's `data` whose header names this bundle file (or `cache` exactly as given).
   */
  async function distCopy(name: string, options: { data?: Buffer; cache?: Buffer; source?: Buffer } = {}): Promise<string> {
    const source = options.source ?? builtSource;
    const copy = join(dir, name);
    await mkdir(copy);
    await cp(join(distDir, 'src'), join(copy, 'src'), { recursive: true });
    const past = new Date(Date.now() - 60_000);
    for (const input of JSON.parse(source.toString('utf8').split('\n')[1]!.slice(load.inputsHeader.length)) as string[]) await utimes(join(copy, input), past, past);
    await writeFile(join(copy, load.bundleFileName), source);
    const written = await stat(join(copy, load.bundleFileName), { bigint: true });
    const cache = options.data ? Buffer.concat([Buffer.from(`${load.cacheHeader}${written.size}:${written.mtimeNs}\n`), options.data]) : options.cache;
    if (cache) await writeFile(join(copy, load.cacheFileName), cache);
    return copy;
  }

  it('bin/plexctl.js runs the bundle with the code cache the build made, and V8 accepts it', async () => {
    const r = await execa(process.execPath, [bin, '-i', 'examples/demo/plex.yaml', 'validate'], { cwd: repoRoot, env: { PLEXCTL_STARTUP_REPORT: '1' } });
    assert.match(r.stderr, /^plexctl-startup: bundle, code cache accepted$/m);
    assert.match(r.stdout, /: valid \(3 groups, 3 users\)/);
    const bundled = loadBundle(distDir);
    assert.equal(bundled.codeCache, 'accepted');
    assert.equal((await validateDemo(bundled.exports)).code, 0);
  });

  it('a copy of the bundle with its cache data and a header naming it runs from the cache', async () => {
    assert.equal(loadBundle(await distCopy('copy', { data: dataOf(builtCache) })).codeCache, 'accepted');
  });

  it('an edited bundle, even of the same length, is never run from the old cache: the edit is what runs', async () => {
    const text = builtSource.toString('utf8');
    assert.ok(text.includes('Serve many isolated instances'));
    const edited = Buffer.from(text.replace('Serve many isolated instances', 'Serve MANY isolated instances'), 'utf8');
    assert.equal(edited.length, builtSource.length);
    const bundled = loadBundle(await distCopy('edited', { cache: builtCache, source: edited }));
    assert.equal(bundled.codeCache, 'not this bundle');
    assert.match((await run(bundled.exports, ['--help'])).text, /Serve MANY isolated instances/);
  });

  it('a cache is not used when its header names another bundle file, has no header, or holds data V8 refuses', async () => {
    const other = loadBundle(await distCopy('other', { cache: builtCache }));
    assert.equal(other.codeCache, 'not this bundle', 'the header names dist/plexctl.cjs, not this copy');
    assert.equal((await validateDemo(other.exports)).code, 0);
    assert.equal(loadBundle(await distCopy('headless', { cache: dataOf(builtCache) })).codeCache, 'not this bundle');
    const refused = loadBundle(await distCopy('refused', { data: Buffer.alloc(4096, 0x5a) }));
    assert.equal(refused.codeCache, 'rejected by V8');
    assert.equal((await validateDemo(refused.exports)).code, 0);
  });

  it('a cache more writable than the bundle, or a symlink, is not used', async () => {
    const writable = await distCopy('writable', { data: dataOf(builtCache) });
    await chmod(join(writable, load.bundleFileName), 0o644);
    await chmod(join(writable, load.cacheFileName), 0o666);
    assert.equal(loadBundle(writable).codeCache, 'writable by others');
    await chmod(join(writable, load.bundleFileName), 0o666);
    assert.equal(loadBundle(writable).codeCache, 'accepted', 'no more writable than the bundle');

    const linked = await distCopy('linked');
    await symlink(join(distDir, load.cacheFileName), join(linked, load.cacheFileName));
    assert.equal(loadBundle(linked).codeCache, 'not a regular file');

    if (process.getuid?.() === 0) {
      const foreign = await distCopy('foreign', { data: dataOf(builtCache) });
      await chown(join(foreign, load.cacheFileName), 65534, 65534);
      assert.equal(loadBundle(foreign).codeCache, 'writable by others', 'owned by nobody, the bundle by root');
    }
  });

  it('without a cache the bundle runs; without a bundle, or with one it does not know, the modules are asked for', async () => {
    const bare = await distCopy('bare');
    assert.equal(loadBundle(bare).codeCache, 'absent');
    await mkdir(join(dir, 'empty'));
    assert.deepEqual(load.loadBundledCli(join(dir, 'empty')), { kind: 'none' });
    const unknown = join(dir, 'unknown');
    await mkdir(unknown);
    await writeFile(join(unknown, load.bundleFileName), 'module.exports = {};\n');
    assert.deepEqual(load.loadBundledCli(unknown), { kind: 'unknown' });
  });

  it('a bundle older than one of its modules (tsc run alone), or missing one, is not run', async () => {
    const newer = await distCopy('newer', { data: dataOf(builtCache) });
    await utimes(join(newer, 'src', 'inventory', 'validate.js'), new Date(), new Date(Date.now() + 60_000));
    assert.deepEqual(load.loadBundledCli(newer), { kind: 'stale', newer: 'src/inventory/validate.js' });
    const missing = await distCopy('missing', { data: dataOf(builtCache) });
    await rm(join(missing, 'src', 'cli.js'));
    assert.deepEqual(load.loadBundledCli(missing), { kind: 'stale', newer: 'src/cli.js' });
  });

  it('bin/plexctl.js answers exactly as the modules do: help, schema, validate, plan with its rendered diff', async () => {
    await writeFile(join(dir, 'plex.yaml'), inventoryYaml({ groups: { django1: {}, django2: {} }, users: { alice: 'django1' } }));
    await writeFile(join(dir, 'bad.yaml'), 'site:\n  mount: nope\ngroups: {}\nusers: {alice: missing}\n');
    const modulesEntry = join(dir, 'modules-entry.mjs');
    await writeFile(modulesEntry, `import { main } from ${JSON.stringify(pathToFileURL(join(distDir, 'src', 'cli.js')).href)};\nprocess.exitCode = await main(process.argv);\n`);
    const runs: string[][] = [
      ['--help'],
      ['user', '--help'],
      ['schema'],
      ['-i', 'plex.yaml', 'validate', '--json'],
      ['-i', 'bad.yaml', 'validate'],
      ['-i', 'plex.yaml', 'plan', '--diff'],
      ['-i', 'plex.yaml', 'plan', '--json'],
    ];
    for (const args of runs) {
      const [bundled, modules] = await Promise.all([
        execa(process.execPath, [bin, ...args], { cwd: dir, reject: false, env: { PLEXCTL_STARTUP_REPORT: '1' } }),
        execa(process.execPath, [modulesEntry, ...args], { cwd: dir, reject: false }),
      ]);
      const [report, ...stderr] = bundled.stderr.split('\n');
      assert.equal(report, 'plexctl-startup: bundle, code cache accepted', `plexctl ${args.join(' ')} ran from the bundle`);
      assert.deepEqual(
        { exitCode: bundled.exitCode, stdout: bundled.stdout, stderr: stderr.join('\n') },
        { exitCode: modules.exitCode, stdout: modules.stdout, stderr: modules.stderr },
        `plexctl ${args.join(' ')}`,
      );
      if (args.includes('plan')) assert.match(bundled.stdout, args.includes('--json') ? /"path"/ : /WSGIDaemonProcess/, 'the plan rendered the templates');
    }
  });
});
