/**
 * What the marks say of each group's instance (has had a tenant since its release; ran
 * site.init), as status and doctor read them. Reads the disk; changes nothing.
 */
import { join } from 'node:path';
import type { Inventory } from '../inventory/types.js';
import { readInUse } from './in-use.js';
import { readInitialised } from './management.js';

export interface InstanceMarks {
  inUse: ReadonlySet<string>;
  /** Absent when the inventory has no site.init (nothing to initialise). */
  initialised?: ReadonlySet<string>;
  /** Why the marks could not be read; then every instance is `unknown`. */
  marksUnreadable?: string;
}

/**
 * The marks, or why they cannot be read: they sit in a root-only directory, so a user other than
 * root (Apache's, say) running status sees `unknown` instead of a crash.
 */
export async function readInstanceMarks(inventory: Inventory): Promise<InstanceMarks> {
  try {
    const inUse = await readInUse(inventory);
    return inventory.site.init.length > 0 ? { inUse, initialised: await readInitialised(inventory) } : { inUse };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return { inUse: new Set(), marksUnreadable: `cannot read ${join(inventory.site.dataDir, '.plexctl')} (${code}): run as root` };
  }
}
