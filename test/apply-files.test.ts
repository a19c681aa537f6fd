/** Applying file changes in batches: many at once within a write order, the map still last, and all undone on a failure. */
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyFileChanges } from '../src/apply/apply-files.js';
import type { FileChange } from '../src/model/files.js';
import { makeTempDir } from './helpers/e2e.js';

describe('applying file changes in batches', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir('plexctl-apply-');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const scripts = (wsgi: string, n: number, text: (i: number) => string, action: 'create' | 'update' = 'create'): FileChange[] =>
    Array.from({ length: n }, (_, i) => ({
      action,
      kind: 'group-script' as const,
      group: `g${i}`,
      path: join(wsgi, `group-g${i}.wsgi`),
      ...(action === 'update' ? { before: `old ${i}\n` } : {}),
      after: text(i),
    }));

  it('writes every file of a tier (more than run at once), then the map after them; leaves no temp file', async () => {
    const wsgi = join(dir, 'ok');
    await mkdir(wsgi);
    const map: FileChange = { action: 'create', kind: 'procmap', path: join(wsgi, 'procmap.txt'), after: 'alice g0\n' };
    const applied = await applyFileChanges([...scripts(wsgi, 30, (i) => `new ${i}\n`), map]);
    assert.equal(applied.changes.length, 31);
    for (let i = 0; i < 30; i++) assert.equal(await readFile(join(wsgi, `group-g${i}.wsgi`), 'utf8'), `new ${i}\n`);
    // The map's tier starts after every script's rename: it is never older than any of them.
    const mapTime = (await stat(map.path)).mtimeMs;
    for (let i = 0; i < 30; i++) assert.ok((await stat(join(wsgi, `group-g${i}.wsgi`))).mtimeMs <= mapTime);
    assert.deepEqual((await readdir(wsgi)).filter((n) => n.endsWith('.plexctl-tmp')), []);
  });

  it('a write that fails half-way through a tier: every file written before or beside it is put back, created ones removed, the map untouched', async () => {
    const wsgi = join(dir, 'fail');
    await mkdir(wsgi);
    for (let i = 0; i < 20; i++) await writeFile(join(wsgi, `group-g${i}.wsgi`), `old ${i}\n`);
    // group-g25.wsgi is a directory: its write fails while others of the tier are in flight.
    await mkdir(join(wsgi, 'group-g25.wsgi'));
    const changes = [
      ...scripts(wsgi, 20, (i) => `new ${i}\n`, 'update'),
      ...scripts(wsgi, 30, (i) => `new ${i}\n`).slice(20),
      { action: 'create', kind: 'procmap', path: join(wsgi, 'procmap.txt'), after: 'alice g0\n' } satisfies FileChange,
    ];
    await assert.rejects(applyFileChanges(changes), /cannot create .*group-g25\.wsgi .*every file written before it was restored/);
    for (let i = 0; i < 20; i++) assert.equal(await readFile(join(wsgi, `group-g${i}.wsgi`), 'utf8'), `old ${i}\n`, `group-g${i}.wsgi restored`);
    const left = (await readdir(wsgi)).sort();
    assert.deepEqual(left, [...Array.from({ length: 20 }, (_, i) => `group-g${i}.wsgi`), 'group-g25.wsgi'].sort(), 'created scripts removed, no map, no temp file');
  });
});
