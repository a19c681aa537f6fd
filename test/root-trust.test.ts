/**
 * Root that cannot be steered: as root, plexctl refuses to write where someone else can change
 * things, and trusts no file another inventory made; text that cannot be carried safely into the
 * generated files is refused by validate.
 */
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateInventoryText } from '../src/inventory/validate.js';
import { makeTempDir, plexctl } from './helpers/e2e.js';

const asRoot = process.getuid?.() === 0;
const nobody = 65534;

const inventory = (wsgiDir: string, extra = '') => `site: {settings_module: demo.settings}
apache: {conf_file: build/plex.conf, wsgi_dir: ${JSON.stringify(wsgiDir)}, user_file: build/htpasswd}
isolation: shared
groups: {g1: {}}
users: {alice: g1}
${extra}`;

async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(dir, { recursive: true })).sort()) {
    const info = await stat(join(dir, name));
    out.push(`${name} ${info.mode.toString(8)} ${info.uid} ${info.isFile() ? (await readFile(join(dir, name))).toString('base64') : ''}`);
  }
  return out;
}

describe('as root, plexctl refuses paths others can change', { skip: asRoot ? false : 'needs root' }, () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir('plexctl-trust-');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('a wsgi_dir inside a directory anyone can write (no sticky bit): refused, naming the path and the fix, nothing written', async () => {
    const open = join(dir, 'open');
    await mkdir(open, { mode: 0o777 });
    await chmod(open, 0o777);
    await writeFile(join(dir, 'plex.yaml'), inventory(join(open, 'wsgi')));
    const before = await snapshot(dir);
    const r = await plexctl(['render'], { cwd: dir });
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /refusing to act as root on paths others can change/);
    assert.ok(r.stderr.includes(open), 'names the path');
    assert.match(r.stderr, /chmod go-w/, 'says the fix');
    assert.deepEqual(await snapshot(dir), before, 'nothing was written');
    await rm(open, { recursive: true, force: true });
  });

  it('a data_dir owned by another user: refused with the chown that fixes it', async () => {
    const theirs = join(dir, 'theirs');
    await mkdir(theirs, { mode: 0o755 });
    await chown(theirs, nobody, nobody);
    await writeFile(join(dir, 'plex.yaml'), inventory('build/wsgi', 'site_extra: x\n').replace('site_extra: x\n', '').replace('site: {settings_module: demo.settings}', `site: {settings_module: demo.settings, data_dir: ${JSON.stringify(join(theirs, 'data'))}}`));
    const r = await plexctl(['render'], { cwd: dir });
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    assert.ok(r.stderr.includes(theirs));
    assert.match(r.stderr, /chown/);
    await rm(theirs, { recursive: true, force: true });
    await rm(join(dir, 'build'), { recursive: true, force: true });
  });

  it('an inventory that others can write (it names the programs plexctl runs): refused before the lock is taken', async () => {
    await writeFile(join(dir, 'plex.yaml'), inventory('build/wsgi'));
    await chmod(join(dir, 'plex.yaml'), 0o666);
    const r = await plexctl(['render'], { cwd: dir });
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /inventory others can change/);
    assert.match(r.stderr, /chmod go-w/);
    await assert.rejects(stat(join(dir, 'plex.yaml.lock')), 'no lock file was created');
    await assert.rejects(stat(join(dir, 'build')), 'nothing was rendered');
    await chmod(join(dir, 'plex.yaml'), 0o644);
  });

  it('doctor shows the same check, with its fix', async () => {
    const open = join(dir, 'open2');
    await mkdir(open, { mode: 0o777 });
    await chmod(open, 0o777);
    await writeFile(join(dir, 'plex.yaml'), inventory(join(open, 'wsgi')));
    const r = await plexctl(['doctor'], { cwd: dir });
    assert.match(r.stdout, /FAIL\s+trusted paths\s+.*open2/);
    assert.match(r.stdout, /fix: .*chmod go-w/);
    await rm(open, { recursive: true, force: true });
  });
});

describe('managed files are never written or read through a link, a FIFO or a device', () => {
  it('a symlinked user_file: user passwd refuses, the link\'s target is untouched; a FIFO as procmap.txt: render refuses at once', async () => {
    const dir = await makeTempDir('plexctl-links-');
    try {
      await writeFile(join(dir, 'plex.yaml'), inventory('build/wsgi'));
      assert.equal((await plexctl(['render'], { cwd: dir })).exitCode, 0);
      const secret = join(dir, 'secret');
      await writeFile(secret, 'root-only secret\n', { mode: 0o600 });
      const { symlink } = await import('node:fs/promises');
      await symlink(secret, join(dir, 'build', 'htpasswd'));
      const r = await plexctl(['user', 'passwd', 'alice', '--password-stdin'], { cwd: dir, input: 'pw\n' });
      assert.equal(r.exitCode, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /is a symbolic link/);
      assert.ok(r.stderr.includes(join(dir, 'build', 'htpasswd')));
      assert.equal(await readFile(secret, 'utf8'), 'root-only secret\n');
      assert.equal((await stat(secret)).mode & 0o777, 0o600);
      await rm(join(dir, 'build', 'htpasswd'));

      const procmap = join(dir, 'build', 'wsgi', 'procmap.txt');
      await rm(procmap);
      const { execa } = await import('execa');
      await execa('mkfifo', [procmap]);
      const started = Date.now();
      const fifo = await plexctl(['render'], { cwd: dir });
      assert.equal(fifo.exitCode, 1, fifo.stdout + fifo.stderr);
      assert.match(fifo.stderr, /FIFO/);
      assert.ok(Date.now() - started < 10_000, 'refused at once, not hung');
      const diff = await plexctl(['plan', '--diff'], { cwd: dir });
      assert.equal(diff.exitCode, 1);
      assert.doesNotMatch(diff.stdout, /root-only secret/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('two inventories sharing a wsgi_dir: neither prunes the other\'s files', () => {
  it('render of one leaves the other\'s group scripts alone', async () => {
    const dir = await makeTempDir('plexctl-shared-wsgi-');
    try {
      const wsgi = join(dir, 'wsgi');
      const one = (groups: string) => `site: {settings_module: demo.settings, data_dir: data-one}
apache: {conf_file: one.conf, wsgi_dir: wsgi, user_file: one.htpasswd}
isolation: shared
groups: {${groups}}
`;
      await mkdir(join(dir, 'b'));
      await writeFile(join(dir, 'one.yaml'), one('a1: {}, a2: {}'));
      await writeFile(join(dir, 'b', 'two.yaml'), `site: {settings_module: demo.settings, data_dir: ../data-two}
apache: {conf_file: two.conf, wsgi_dir: ../wsgi, user_file: two.htpasswd}
isolation: shared
groups: {b1: {}}
`);
      assert.equal((await plexctl(['-i', 'one.yaml', 'render'], { cwd: dir })).exitCode, 0);
      // Into the shared wsgi_dir, the second would overwrite the first's site.wsgi and map: refused.
      const refused = await plexctl(['-i', 'b/two.yaml', 'render'], { cwd: dir });
      assert.equal(refused.exitCode, 1, refused.stderr);
      assert.match(refused.stderr, /was generated from another inventory \(\S+one\.yaml\).*nothing was written/);
      // Its script as if it had its own map and site.wsgi: rendered aside, copied in.
      assert.equal((await plexctl(['-i', 'b/two.yaml', 'render', '--out', join(dir, 'aside')], { cwd: dir })).exitCode, 0);
      await writeFile(join(wsgi, 'group-b1.wsgi'), await readFile(join(dir, 'aside', 'wsgi', 'group-b1.wsgi')));
      await writeFile(join(dir, 'one.yaml'), one('a1: {}'));
      const r = await plexctl(['-i', 'one.yaml', 'render'], { cwd: dir });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stdout, /delete .*group-a2\.wsgi/, 'its own leftover is pruned');
      assert.ok((await readdir(wsgi)).includes('group-b1.wsgi'), 'the other inventory\'s script stays');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('validate refuses what the generated files could not carry', () => {
  const text = (settings = '') => `site: {settings_module: demo.settings}
apache: {conf_file: build/plex.conf, wsgi_dir: build/wsgi, user_file: build/htpasswd}
groups:
  g1:
${settings}`;
  it('a newline (or a quote) in the inventory\'s own path: refused, never copied into a marker line, a directive or Python', () => {
    for (const file of ['/srv/a\nb/plex.yaml', '/srv/a"b/plex.yaml', '/srv/${X}/plex.yaml']) {
      const { inventory, problems } = validateInventoryText(file, text());
      assert.equal(inventory, undefined, file);
      assert.match(problems.map((p) => p.message).join('\n'), /the inventory's path has a control character/);
      for (const p of problems) assert.doesNotMatch(p.file, /\n/);
    }
  });
  it('an integer of more than 4300 digits, and lists nested past Python\'s parser: refused', () => {
    const big = validateInventoryText('/srv/plex.yaml', text(`    settings: {BIG: ${'9'.repeat(4301)}}\n`));
    assert.match(big.problems.map((p) => p.message).join('\n'), /more than 4300 digits/);
    const ok = validateInventoryText('/srv/plex.yaml', text(`    settings: {BIG: ${'9'.repeat(4300)}}\n`));
    assert.deepEqual(ok.problems, []);
    const deep = validateInventoryText('/srv/plex.yaml', text(`    settings: {DEEP: ${'['.repeat(150)}${']'.repeat(150)}}\n`));
    assert.match(deep.problems.map((p) => p.message).join('\n'), /nests lists or mappings more than 100 deep/);
  });
});
