/**
 * Which groups have had a tenant since their last release: one empty file per group in
 * `<data_dir>/.plexctl/in-use/` (root's, 0700, out of every instance's reach). Written once the map
 * routes a user to the group, removed when its release is complete, so a release that was cut
 * short (a crash, a kill) is found and finished by the next `reconcile`.
 */
import { mkdir, open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Inventory } from '../inventory/types.js';
import { syncDir } from './atomic-write.js';

const dirOf = (inventory: Inventory) => join(inventory.site.dataDir, '.plexctl', 'in-use');

export async function readInUse(inventory: Inventory): Promise<Set<string>> {
  try {
    return new Set(await readdir(dirOf(inventory)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw error;
  }
}

export async function markInUse(inventory: Inventory, groups: string[]): Promise<void> {
  if (groups.length === 0) return;
  const dir = dirOf(inventory);
  const present = await readInUse(inventory);
  const missing = groups.filter((g) => !present.has(g));
  if (missing.length === 0) return;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const group of missing) {
    // O_EXCL|O_NOFOLLOW: never through something planted at the name.
    const handle = await open(join(dir, group), 'wx', 0o600).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') return undefined;
      throw error;
    });
    await handle?.close();
  }
  await syncDir(dir);
}

export async function clearInUse(inventory: Inventory, group: string): Promise<void> {
  try {
    await unlink(join(dirOf(inventory), group));
    await syncDir(dirOf(inventory));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Groups with a user in the inventory, to mark once the map routes to them. */
export const groupsInUse = (inventory: Inventory) => [...new Set(inventory.users.map((u) => u.group))];
