/**
 * Each group's instance as it is on this machine: does its account exist, and what is at its data
 * directory (and at data_dir itself). Read-only.
 */
import { lstat } from 'node:fs/promises';
import type { Inventory } from '../inventory/types.js';
import { usersByName, type UserEntry } from '../system/accounts.js';

export interface DirFacts {
  /** `missing`, a directory, or something else (a link, a file: never used, never followed). */
  kind: 'missing' | 'directory' | 'other';
  mode?: number;
  uid?: number;
  gid?: number;
}

export interface InstanceFacts {
  group: string;
  /** The account its daemons run as, and its ids when it exists. */
  account?: { user: string; group: string; uid?: number; gid?: number; gecos?: string };
  dataDir: DirFacts;
}

export interface InstancesObservation {
  asRoot: boolean;
  dataRoot: DirFacts;
  instances: InstanceFacts[];
}

export async function dirFacts(path: string): Promise<DirFacts> {
  try {
    const info = await lstat(path);
    if (!info.isDirectory()) return { kind: 'other' };
    return { kind: 'directory', mode: info.mode & 0o7777, uid: info.uid, gid: info.gid };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw error;
  }
}

export async function observeInstances(inventory: Inventory): Promise<InstancesObservation> {
  const asRoot = process.getuid?.() === 0;
  const accounts = inventory.groups.some((g) => g.runAs) ? await usersByName() : new Map<string, UserEntry>();
  const instances = await Promise.all(
    inventory.groups.map(async (group): Promise<InstanceFacts> => {
      let account: InstanceFacts['account'];
      if (group.runAs) {
        const entry = accounts.get(group.runAs.user);
        account = { ...group.runAs, ...(entry ? { uid: entry.uid, gid: entry.gid, gecos: entry.gecos } : {}) };
      }
      return { group: group.name, ...(account ? { account } : {}), dataDir: await dirFacts(group.dataDir) };
    }),
  );
  return { asRoot, dataRoot: await dirFacts(inventory.site.dataDir), instances };
}
