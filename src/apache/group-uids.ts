/** Which uid each group's daemons run as: the only thing about a daemon its tenant cannot forge. */
import { readFile } from 'node:fs/promises';
import type { Inventory } from '../inventory/types.js';
import type { GroupUids } from './daemons.js';

/**
 * The uid of each group's own account, under per-group isolation (validate has made them
 * distinct). Under `isolation: shared` uids prove nothing, and daemons are known by title alone.
 */
export async function groupUids(inventory: Inventory): Promise<GroupUids> {
  const uids: GroupUids = new Map();
  if (inventory.isolation !== 'per-group') return uids;
  const table = new Map((await readFile('/etc/passwd', 'utf8').catch(() => '')).split('\n').map((line) => {
    const f = line.split(':');
    return [f[0]!, Number(f[2])] as const;
  }));
  for (const group of inventory.groups) {
    const uid = group.runAs ? table.get(group.runAs.user) : undefined;
    if (uid !== undefined && Number.isInteger(uid)) uids.set(group.name, uid);
  }
  return uids;
}

