/**
 * The bundled CLI (dist/plexctl.cjs and its code cache, made by `npm run build`): bin/plexctl.js
 * runs it with the cache V8 accepts, a cache that is not the bundle's own is never used, and the
 * bundle answers exactly as the modules in dist/src do.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import load from '../src/bundle/load.cjs';
import type { Io } from '../src/io.js';
import { inventoryYaml, makeTempDir, repoRoot } from './helpers/e2e.js';

const distDir = join(repoRoot, 'dist');
type Cli = { main(argv: string[], io: Io): Promise<number> };

function captureIo(): Io & { text: () => string } {
  let text = '';
  return { out: (t) => void (text += t), err: (t) => void (text += t), text: () => text };
}

async function validateDemo(cli: Cli): Promise<{ code: number; text: string }> {
  const io = captureIo();
  const code = await cli.main(['node', 'plexctl', '-i', join(repoRoot, 'examples', 'demo', 'plex.yaml'), 'validate'], io);
  return { code, text: io.text() };
}

describe('the bundled CLI', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir();
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  /** A copy of the built bundle in its own directory, with `cache` (or none) beside it. */
  async function bundleCopy(name: string, cache: Buffer | undefined): Promise<string> {
    const copy = join(dir, name);
    await mkdir(copy);
    await copyFile(join(distDir, load.bundleFileName), join(copy, load.bundleFileName));
    if (cache) await writeFile(join(copy, load.cacheFileName), cache);
    return copy;
  }

  it('the build made a bundle whose code cache V8 accepts', async () => {
    const bundled = load.loadBundledCli<Cli>(distDir);
    assert.ok(bundled, 'npm run build wrote dist/plexctl.cjs');
    assert.equal(bundled.codeCache, 'accepted');
    const run = await validateDemo(bundled.exports);
    assert.equal(run.code, 0, run.text);
    assert.match(run.text, /: valid \(3 groups, 3 users\)/);
  });

  it('a cache made for another build is not used; the bundle still runs', async () => {
    const cache = await readFile(join(distDir, load.cacheFileName));
    const newline = cache.indexOf(0x0a);
    const otherBuild = Buffer.concat([Buffer.from(`${load.cacheHeader}0123456789abcdef01234567\n`), cache.subarray(newline + 1)]);
    const bundled = load.loadBundledCli<Cli>(await bundleCopy('stale', otherBuild));
    assert.equal(bundled?.codeCache, 'stale');
    assert.equal((await validateDemo(bundled.exports)).code, 0);
  });

  it('a cache with the right header but data V8 refuses is not used; the bundle still runs', async () => {
    const source = await readFile(join(distDir, load.bundleFileName), 'utf8');
    const buildId = source.slice(load.bundleHeader.length, source.indexOf('\n'));
    const garbage = Buffer.concat([Buffer.from(`${load.cacheHeader}${buildId}\n`), Buffer.alloc(4096, 0x5a)]);
    const bundled = load.loadBundledCli<Cli>(await bundleCopy('garbage', garbage));
    assert.equal(bundled?.codeCache, 'rejected');
    assert.equal((await validateDemo(bundled.exports)).code, 0);
  });

  it('without a cache the bundle runs; without a bundle there is nothing to load', async () => {
    const bundled = load.loadBundledCli<Cli>(await bundleCopy('no-cache', undefined));
    assert.equal(bundled?.codeCache, 'absent');
    assert.equal((await validateDemo(bundled.exports)).code, 0);
    assert.equal(load.loadBundledCli(join(dir, 'no-cache', 'nothing-here')), undefined);
  });

  it('a file that is not a plexctl bundle is refused with the fix', async () => {
    const notOurs = join(dir, 'not-ours');
    await mkdir(notOurs);
    await writeFile(join(notOurs, load.bundleFileName), 'module.exports = {};\n');
    assert.throws(() => load.loadBundledCli(notOurs), /not a plexctl bundle .*run npm run build/);
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
      const [bundled, modules] = await Promise.all(
        [join(repoRoot, 'bin', 'plexctl.js'), modulesEntry].map((entry) => execa(process.execPath, [entry, ...args], { cwd: dir, reject: false })),
      );
      assert.deepEqual(
        { exitCode: bundled!.exitCode, stdout: bundled!.stdout, stderr: bundled!.stderr },
        { exitCode: modules!.exitCode, stdout: modules!.stdout, stderr: modules!.stderr },
        `plexctl ${args.join(' ')}`,
      );
      if (args.includes('plan')) assert.match(bundled!.stdout, args.includes('--json') ? /"path"/ : /WSGIDaemonProcess/, 'the plan rendered the templates');
    }
  });
});
