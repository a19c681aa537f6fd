/**
 * Start-up loads only what the command needs: `--help` no YAML parser and none of plexctl's
 * core; `validate` the YAML parser and the inventory modules, nothing of rendering, planning or
 * Apache. Module loads are seen by a resolve hook (module.register) in the child process, so
 * these runs start the CLI from its modules (dist/src/cli.js), as a build without the bundle
 * does; the bundle keeps the same laziness (esbuild initialises a module on its first import),
 * and test/bundle.test.ts checks that it behaves as the modules do.
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { makeTempDir, repoRoot } from './helpers/e2e.js';

const hooks = `export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  process.stderr.write('plexctl-test-load ' + result.url + '\\n');
  return result;
}
`;

describe('start-up loads only what the command needs', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir();
    await writeFile(join(dir, 'hooks.mjs'), hooks);
    await writeFile(join(dir, 'modules-entry.mjs'), `import { main } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'dist', 'src', 'cli.js')).href)};\nprocess.exitCode = await main(process.argv);\n`);
    await writeFile(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  /** The modules a run loaded: packages by name, plexctl's own by path under dist/src/. */
  async function loaded(args: string[]): Promise<{ packages: Set<string>; own: string[] }> {
    const r = await execa(process.execPath, ['--import', join(dir, 'register.mjs'), join(dir, 'modules-entry.mjs'), ...args], { cwd: repoRoot, reject: false });
    assert.equal(r.exitCode, 0, r.stderr);
    const urls = r.stderr.split('\n').flatMap((l) => (l.startsWith('plexctl-test-load ') ? [l.slice('plexctl-test-load '.length)] : []));
    assert.ok(urls.length > 0, 'the resolve hook saw the loads');
    const packages = new Set(urls.flatMap((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? []));
    const own = urls.flatMap((u) => /\/dist\/src\/(.+)\.js$/.exec(u)?.[1] ?? []);
    return { packages, own };
  }
  const heavy = ['yaml', 'ejs', 'execa', 'ps-list', 'diff'];
  const core = /^(render|plan|apply|apache|reconcile|lifecycle|status|doctor|lock|demo)\//;

  it('--help: commander, the command modules and nothing else', async () => {
    const { packages, own } = await loaded(['--help']);
    assert.deepEqual([...packages], ['commander']);
    for (const heavyPackage of heavy) assert.ok(!packages.has(heavyPackage), heavyPackage);
    assert.deepEqual(own.filter((m) => core.test(m) || (m.startsWith('inventory/') && m !== 'inventory/path')), []);
  });

  it('validate: yaml and the inventory modules, nothing of rendering, planning or Apache', async () => {
    const { packages, own } = await loaded(['-i', 'examples/demo/plex.yaml', 'validate']);
    assert.deepEqual([...packages].sort(), ['commander', 'yaml']);
    // apache/name-limits: the names Apache imposes (constants and one pure check), which validate enforces.
    assert.deepEqual(own.filter((m) => core.test(m) && m !== 'apache/name-limits'), []);
    assert.ok(own.includes('inventory/validate'));
  });
});
