/** `render`: plan the generated files against the disk, then write what differs. */
import type { Inventory } from '../inventory/types.js';
import type { FileChange } from '../model/files.js';
import { desiredAgainstDisk } from '../observe/actual-files.js';
import { applyFileChanges } from './apply-files.js';

export async function writeGeneratedFiles(inventory: Inventory, outDir?: string): Promise<FileChange[]> {
  const changes = await desiredAgainstDisk(inventory, outDir);
  await applyFileChanges(changes);
  return changes;
}
