/** apache.map: dbm routes, adds and removes users through a real Apache, like the txt map. */
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { describeLive, startSite, type Site } from './helpers/e2e.js';

await describeLive('a DBM RewriteMap', { timeout: 120_000 }, () => {
  let site: Site | undefined;
  before(async () => {
    site = await startSite({
      map: 'dbm',
      groups: { django1: { settings: { GREETING: 'one' } }, django2: { settings: { GREETING: 'two' } }, spare: {} },
      users: { alice: 'django1', bob: 'django2' },
    });
  });
  after(async () => site?.stop());

  it('is what Apache reads, and routes each user to their group', async (t) => {
    if (!site) return t.skip('no Apache');
    const conf = await readFile(join(site.dir, 'build/plex.conf'), 'utf8');
    assert.match(conf, /RewriteMap plexctl_procmap "dbm:\/.+\/procmap\.dbm"/);
    assert.ok((await readdir(join(site.dir, 'build/wsgi'))).includes('procmap.dbm'));
    assert.equal((await site.get('alice')).body.group, 'django1');
    assert.equal((await site.get('bob')).body.group, 'django2');
    assert.equal((await site.get()).status, 401);
  });

  it('user add, move and remove take effect on the next request', async (t) => {
    if (!site) return t.skip('no Apache');
    const added = await site.cli(['user', 'add', 'carol', '--password-stdin'], 'carol-pw\n');
    assert.equal(added.exitCode, 0, added.stderr + added.stdout);
    assert.equal((await site.get('carol')).body.group, 'spare');
    assert.equal((await site.cli(['user', 'move', 'carol', '--group', 'django1'])).exitCode, 0);
    assert.equal((await site.get('carol')).body.group, 'django1');
    assert.equal((await site.cli(['user', 'remove', 'bob'])).exitCode, 0);
    assert.equal((await site.get('bob')).status, 401);
    assert.equal((await site.cli(['plan'])).exitCode, 0, 'the DBM matches the inventory');
    assert.equal((await site.cli(['reconcile', '--quiet'])).stdout, '');
  });
});
