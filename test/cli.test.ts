/** The built CLI on files only (no Apache): validate, render, plan, exit codes. */
import assert from 'node:assert/strict';
import { chmod, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inventoryYaml, makeTempDir, plexctl, type SiteSpec } from './helpers/e2e.js';

const spec: SiteSpec = {
  groups: { django1: { env: { DEMO_DB: 'a' } }, django2: {} },
  users: { alice: 'django1', bob: 'django2' },
};

describe('plexctl CLI', () => {
  let dir: string;
  const cli = (args: string[], input?: string) => plexctl(args, { cwd: dir, ...(input ? { input } : {}) });
  before(async () => {
    dir = await makeTempDir();
    await writeFile(join(dir, 'plex.yaml'), inventoryYaml(spec));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('explains itself with --help and exits 0', async () => {
    const r = await cli(['--help']);
    assert.equal(r.exitCode, 0);
    for (const command of ['validate', 'render', 'plan', 'serve', 'user']) assert.match(r.stdout, new RegExp(`\\b${command}\\b`));
    assert.match(r.stdout, /Exit codes/);
  });

  it('refuses an unknown command or flag with exit 1', async () => {
    assert.equal((await cli(['frobnicate'])).exitCode, 1);
    const r = await cli(['render', '--bogus']);
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /unknown option '--bogus'/);
  });

  it('finds the inventory by -i, then $PLEXCTL_INVENTORY, then ./plex.yaml', async () => {
    assert.equal((await plexctl(['validate'], { cwd: dir })).exitCode, 0);
    const elsewhere = await makeTempDir();
    try {
      const missing = await plexctl(['validate'], { cwd: elsewhere });
      assert.equal(missing.exitCode, 1);
      assert.match(missing.stderr, /no such inventory file/);
      assert.equal((await plexctl(['-i', join(dir, 'plex.yaml'), 'validate'], { cwd: elsewhere })).exitCode, 0);
      assert.equal((await plexctl(['validate'], { cwd: elsewhere, env: { PLEXCTL_INVENTORY: join(dir, 'plex.yaml') } })).exitCode, 0);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('validate prints one located line per mistake, exits 1 and writes nothing', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      inventoryYaml(spec)
        .replace('threads: 3', 'threads: three') // wrong type
        .replace('  realm: "plex test"', '  realm: "plex test"\n  conf_fil: x') // unknown key
        .replace('bob: django2', 'bob: djang2\n  "eve smith": django1\n  alice: django2'), // unknown group, unsafe name, duplicate
    );
    const r = await cli(['-i', bad, 'validate']);
    assert.equal(r.exitCode, 1);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith(bad));
    assert.equal(lines.length, 5, r.stderr);
    for (const line of lines) assert.match(line, /^\/.+:\d+:\d+: [^:]+: .+/);
    assert.match(r.stderr, /conf_fil.*did you mean "conf_file"/);
    assert.match(r.stderr, /defaults\.threads: expected an integer/);
    assert.match(r.stderr, /users\.bob: group "djang2" is not defined/);
    assert.match(r.stderr, /duplicate key/);
    assert.match(r.stderr, /users\["eve smith"\]: a user name must not contain whitespace/);
    await assert.rejects(stat(join(dir, 'build')), 'nothing was written');
    const json = JSON.parse((await cli(['-i', bad, 'validate', '--json'])).stdout);
    assert.equal(json.valid, false);
    assert.equal(json.problems.length, 5);
  });

  it('render writes every file; plan exits 0 right after render and 2 after an inventory edit', async () => {
    assert.equal((await cli(['plan'])).exitCode, 2);
    const rendered = await cli(['render']);
    assert.equal(rendered.exitCode, 0, rendered.stderr);
    assert.deepEqual((await readdir(join(dir, 'build', 'wsgi'))).sort(), ['group-django1.wsgi', 'group-django2.wsgi', 'procmap.txt', 'site.wsgi']);
    const clean = await cli(['plan']);
    assert.equal(clean.exitCode, 0, clean.stdout);
    assert.match(clean.stdout, /Nothing to do/);

    await writeFile(join(dir, 'plex.yaml'), inventoryYaml({ ...spec, users: { ...spec.users, carol: 'django2' } }));
    const pending = await cli(['plan', '--diff']);
    assert.equal(pending.exitCode, 2);
    assert.match(pending.stdout, /~ update .*procmap\.txt/);
    assert.match(pending.stdout, /^\+carol django2$/m);
    const json = JSON.parse((await cli(['plan', '--json'])).stdout);
    assert.deepEqual(json.files.map((f: { action: string; kind: string }) => `${f.action} ${f.kind}`), ['update procmap']);
  });

  it('render writes only what changed, keeps modes, and always gives a rewritten procmap.txt a new mtime', async () => {
    await cli(['render']);
    const procmap = join(dir, 'build', 'wsgi', 'procmap.txt');
    const script = join(dir, 'build', 'wsgi', 'group-django1.wsgi');
    await chmod(procmap, 0o640);
    const before = { procmap: await stat(procmap), script: await stat(script) };
    await writeFile(join(dir, 'plex.yaml'), inventoryYaml({ ...spec, users: { ...spec.users, dave: 'django1' } }));
    assert.equal((await cli(['render'])).exitCode, 0);
    const afterwards = { procmap: await stat(procmap), script: await stat(script) };
    assert.equal(afterwards.script.mtimeMs, before.script.mtimeMs, 'an unchanged file is not rewritten');
    assert.equal(afterwards.script.ino, before.script.ino);
    assert.notEqual(afterwards.procmap.mtimeMs, before.procmap.mtimeMs);
    assert.notEqual(afterwards.procmap.ino, before.procmap.ino, 'replaced by rename, not written in place');
    assert.equal(afterwards.procmap.mode & 0o777, 0o640, 'the existing mode is kept');
    assert.match(await readFile(procmap, 'utf8'), /^dave django1$/m);
    const again = await cli(['render']);
    assert.match(again.stdout, /Nothing to write/);
    assert.equal((await stat(procmap)).mtimeMs, afterwards.procmap.mtimeMs, 'a no-op render touches nothing');
  });

  it('deletes the script of a group removed from the inventory, and only plexctl\'s own files', async () => {
    await cli(['render']);
    const foreign = join(dir, 'build', 'wsgi', 'group-handmade.wsgi');
    await writeFile(foreign, '# written by a human\n');
    await writeFile(join(dir, 'plex.yaml'), inventoryYaml({ groups: { django1: {} }, users: { alice: 'django1' } }));
    const r = await cli(['render']);
    assert.match(r.stdout, /- delete .*group-django2\.wsgi/);
    const files = await readdir(join(dir, 'build', 'wsgi'));
    assert.ok(!files.includes('group-django2.wsgi'));
    assert.ok(files.includes('group-handmade.wsgi'), 'a file plexctl did not write is left alone');
    await writeFile(join(dir, 'plex.yaml'), inventoryYaml(spec));
  });

  it('render --out writes the same set under another directory for review', async () => {
    const out = join(dir, 'review');
    await cli(['render']);
    const r = await cli(['render', '--out', out]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual((await readdir(out)).sort(), ['plex.conf', 'wsgi']);
    assert.equal(await readFile(join(out, 'plex.conf'), 'utf8'), await readFile(join(dir, 'build', 'plex.conf'), 'utf8'));
  });
});
