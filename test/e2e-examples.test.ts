/** Every bundled example renders into a configuration the real `apache2 -t` accepts. */
import assert from 'node:assert/strict';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { mkdir } from 'node:fs/promises';
import { serverConfig, serverPaths, runApache } from '../src/apache/private-server.js';
import { loadInventory } from '../src/inventory/load.js';
import { applyFileChanges } from '../src/apply/apply-files.js';
import { planFiles } from '../src/plan/file-plan.js';
import { renderFiles } from '../src/render/generated-files.js';
import { ensureInstances } from '../src/apply/write-generated-files.js';
import { makeTempDir, repoRoot, requireApache } from './helpers/e2e.js';

it('apache2 -t accepts the configuration rendered from every example inventory', { timeout: 60_000 }, async (t) => {
  if (!(await requireApache(t))) return;
  const examples = join(repoRoot, 'examples');
  const inventories: string[] = [];
  for (const entry of await readdir(examples, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      const files = await readdir(join(examples, entry.name));
      if (files.includes('plex.yaml')) inventories.push(join(examples, entry.name, 'plex.yaml'));
    }
  }
  assert.ok(inventories.length > 0);
  for (const file of inventories) {
    const dir = await makeTempDir();
    try {
      const inventory = await loadInventory(file);
      // Render into the temp directory, leaving the example itself untouched.
      inventory.apache = { ...inventory.apache, confFile: join(dir, 'plex.conf'), wsgiDir: join(dir, 'wsgi'), userFile: join(dir, 'htpasswd') };
      inventory.site = { ...inventory.site, dataDir: join(dir, 'data') };
      inventory.groups = inventory.groups.map((g) => ({ ...g, dataDir: join(dir, 'data', g.name) }));
      await writeFile(inventory.apache.userFile, '');
      // As root the groups' accounts must exist before Apache reads user= (mod_wsgi looks them up).
      await ensureInstances(inventory);
      const files = renderFiles(inventory);
      await applyFileChanges(planFiles(files, { contents: new Map(), owned: new Map() }));
      const paths = serverPaths(dir);
      await mkdir(paths.runDir, { recursive: true });
      await mkdir(join(paths.stateDir, 'logs'), { recursive: true });
      await writeFile(paths.conf, serverConfig(paths, 1, inventory.apache.confFile, process.getuid?.() === 0));
      const result = await runApache(paths.conf, ['-t']);
      assert.equal(result.exitCode, 0, `${file}: ${result.all}`);
      assert.match(result.all ?? '', /Syntax OK/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});
