/**
 * One empty file per group in `<data_dir>/.plexctl/<set>/` (root's, 0700, out of every
 * instance's reach): a fact about each group that must survive a crash, such as "has had a
 * tenant since its last release" (in-use) or "its data directory was initialised" (initialised).
 */
import { mkdir, open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Inventory } from '../inventory/types.js';
import { syncDir } from './atomic-write.js';

export interface GroupMarks {
  read(inventory: Inventory): Promise<Set<string>>;
  mark(inventory: Inventory, groups: string[]): Promise<void>;
  clear(inventory: Inventory, group: string): Promise<void>;
}

export function groupMarks(set: string): GroupMarks {
  const dirOf = (inventory: Inventory) => join(inventory.site.dataDir, '.plexctl', set);
  const read = async (inventory: Inventory) => {
    try {
      return new Set(await readdir(dirOf(inventory)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Set<string>();
      throw error;
    }
  };
  return {
    read,
    async mark(inventory, groups) {
      if (groups.length === 0) return;
      const dir = dirOf(inventory);
      const present = await read(inventory);
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
    },
    async clear(inventory, group) {
      try {
        await unlink(join(dirOf(inventory), group));
        await syncDir(dirOf(inventory));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    },
  };
}
