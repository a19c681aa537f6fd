/**
 * `render`: the instances' accounts and data directories (not under --out), then the generated
 * files planned against the disk, writing what differs.
 */
import type { Inventory } from '../inventory/types.js';
import type { Event } from '../model/events.js';
import type { FileChange } from '../model/files.js';
import { desiredAgainstDisk } from '../observe/actual-files.js';
import { observeInstances } from '../observe/instances.js';
import { planInstances } from '../plan/instance-plan.js';
import { applyFileChanges } from './apply-files.js';
import { applyInstanceChanges } from './instances.js';

export interface Written {
  instanceEvents: Event[];
  changes: FileChange[];
}

export async function writeGeneratedFiles(inventory: Inventory, outDir?: string): Promise<Written> {
  // Accounts first: the files' owners and Apache's configuration name them.
  const instanceEvents = outDir === undefined ? await ensureInstances(inventory) : [];
  const changes = await desiredAgainstDisk(inventory, outDir);
  await applyFileChanges(changes);
  return { instanceEvents, changes };
}

export async function ensureInstances(inventory: Inventory): Promise<Event[]> {
  return applyInstanceChanges(planInstances(inventory, await observeInstances(inventory)));
}
