/**
 * What the marks say of each group's instance (has had a tenant since its release; ran
 * site.init), as status and doctor read them. Reads the disk; changes nothing.
 */
import type { Inventory } from '../inventory/types.js';
import { readInUse } from './in-use.js';
import { readInitialised } from './management.js';

export interface InstanceMarks {
  inUse: ReadonlySet<string>;
  /** Absent when the inventory has no site.init (nothing to initialise). */
  initialised?: ReadonlySet<string>;
}

export async function readInstanceMarks(inventory: Inventory): Promise<InstanceMarks> {
  const inUse = await readInUse(inventory);
  return inventory.site.init.length > 0 ? { inUse, initialised: await readInitialised(inventory) } : { inUse };
}
