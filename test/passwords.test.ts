/** Passwords: made at apache.bcrypt_cost, and never for a name htpasswd would read as an option. */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { findMissing } from '../src/apache/prerequisites.js';
import { makeTempDir, plexctl } from './helpers/e2e.js';

it('user passwd hashes at apache.bcrypt_cost (htpasswd -C)', async (t) => {
  if ((await findMissing()).some((m) => m.what.includes('htpasswd'))) {
    if (process.env.CI === 'true') assert.fail('htpasswd is not installed; CI must install apache2-utils (.ci/run)');
    return t.skip('htpasswd is not installed');
  }
  const dir = await makeTempDir('plexctl-bcrypt-');
  try {
    await writeFile(join(dir, 'plex.yaml'), `site: {settings_module: demo.settings}
apache: {conf_file: build/plex.conf, wsgi_dir: build/wsgi, user_file: build/htpasswd, bcrypt_cost: 7}
isolation: shared
groups: {g1: {}}
users: {alice: g1}
`);
    const r = await plexctl(['user', 'passwd', 'alice', '--password-stdin'], { cwd: dir, input: 'pw\n' });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(await readFile(join(dir, 'build', 'htpasswd'), 'utf8'), /^alice:\$2y\$07\$/m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
