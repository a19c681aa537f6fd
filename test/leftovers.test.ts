/**
 * Files plexctl wrote for a feature the inventory has since turned off: the session key of
 * `auth: form` is deleted by the next render (last, after every write), its secret never shown
 * by `plan`; a file at that path that is not a session key plexctl would write is left alone.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inventoryYaml, makeTempDir, plexctl, type SiteSpec } from './helpers/e2e.js';

const spec: SiteSpec = { groups: { django1: {} }, users: { alice: 'django1' } };

describe('leftovers of a feature turned off', () => {
  let dir: string;
  const cli = (args: string[]) => plexctl(args, { cwd: dir });
  const sessionKey = () => join(dir, 'build', 'plex.conf.session-key');
  before(async () => {
    dir = await makeTempDir();
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('form -> basic: plan shows the session key deleted, last and without its content; render deletes it', async () => {
    await writeFile(join(dir, 'plex.yaml'), inventoryYaml({ ...spec, apache: '  auth: form\n' }));
    const made = await cli(['render']);
    assert.equal(made.exitCode, 0, made.stderr);
    const secret = await readFile(sessionKey(), 'utf8');
    assert.match(secret, /^SessionCryptoPassphrase /m);

    await writeFile(join(dir, 'plex.yaml'), inventoryYaml(spec));
    const plan = await cli(['plan', '--json']);
    assert.equal(plan.exitCode, 2, plan.stderr);
    const changes = (JSON.parse(plan.stdout) as { files: { action: string; path: string }[] }).files;
    assert.deepEqual(changes.at(-1), { ...changes.at(-1), action: 'delete', path: sessionKey() }, JSON.stringify(changes));
    const diff = await cli(['plan', '--diff']);
    const passphrase = /^SessionCryptoPassphrase (\S+)/m.exec(secret)![1]!;
    assert.ok(!diff.stdout.includes(passphrase) && !plan.stdout.includes(passphrase), 'the secret is never shown');
    assert.match(diff.stdout, /session key: its content is secret and never shown/);

    const rendered = await cli(['render']);
    assert.equal(rendered.exitCode, 0, rendered.stderr);
    assert.ok(!existsSync(sessionKey()), 'deleted');
    assert.equal((await cli(['plan'])).exitCode, 0, 'nothing left to do');
  });

  it('a symlink, a directory or a hard link at the session key path is left alone and stops no command', async () => {
    const target = join(dir, 'elsewhere');
    await writeFile(target, 'SessionCryptoPassphrase ' + 'a'.repeat(43) + '\n', { mode: 0o600 });
    for (const make of [() => symlink(target, sessionKey()), () => mkdir(sessionKey()), () => link(target, sessionKey())]) {
      await make();
      const plan = await cli(['plan']);
      assert.equal(plan.exitCode, 0, plan.stderr + plan.stdout);
      assert.equal((await cli(['render'])).exitCode, 0);
      assert.ok(existsSync(sessionKey()));
      await rm(sessionKey(), { recursive: true });
    }
  });

  it('a key file plexctl did not write (no plexctl header), or one beside a fragment plexctl did not write, is kept', async () => {
    const handMade = 'SessionCryptoPassphrase ' + 'b'.repeat(43) + '\n';
    await writeFile(sessionKey(), handMade, { mode: 0o600 });
    assert.equal((await cli(['plan'])).exitCode, 0);
    await rm(sessionKey());
    // A plexctl key in a directory where this inventory's fragment is not: render --out elsewhere.
    const out = join(dir, 'review');
    await mkdir(out, { mode: 0o755 });
    await writeFile(join(dir, 'plex.yaml'), inventoryYaml({ ...spec, apache: '  auth: form\n' }));
    assert.equal((await cli(['render'])).exitCode, 0);
    await copyFile(sessionKey(), join(out, 'plex.conf.session-key'));
    await writeFile(join(dir, 'plex.yaml'), inventoryYaml(spec));
    const review = await cli(['render', '--out', out]);
    assert.equal(review.exitCode, 0, review.stderr);
    assert.ok(existsSync(join(out, 'plex.conf.session-key')), 'no fragment of this inventory was there before: not ours to delete');
    assert.equal((await cli(['render'])).exitCode, 0);
  });

  it("reconcile, like render, refuses a fragment another inventory generated, so never deletes that inventory's key", async () => {
    await writeFile(join(dir, 'plex.yaml'), inventoryYaml({ ...spec, apache: '  auth: form\n' }));
    assert.equal((await cli(['render'])).exitCode, 0);
    await writeFile(join(dir, 'other.yaml'), inventoryYaml(spec));
    for (const args of [['reconcile', '--dry-run'], ['reconcile'], ['plan'], ['render']]) {
      const r = await cli(['-i', 'other.yaml', ...args]);
      assert.equal(r.exitCode, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /was generated from another inventory/);
    }
    assert.ok(existsSync(sessionKey()));
    await writeFile(join(dir, 'plex.yaml'), inventoryYaml(spec));
    assert.equal((await cli(['render'])).exitCode, 0);
    assert.ok(!existsSync(sessionKey()));
  });

  it('a file at the session key path that plexctl would not write is kept', async () => {
    await writeFile(sessionKey(), 'someone else\'s notes\n', { mode: 0o600 });
    const plan = await cli(['plan', '--json']);
    assert.equal(plan.exitCode, 0, plan.stdout);
    assert.equal((await cli(['render'])).exitCode, 0);
    assert.equal(await readFile(sessionKey(), 'utf8'), 'someone else\'s notes\n');
  });
});
