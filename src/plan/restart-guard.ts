/**
 * What `restart GROUP` would load that the inventory does not render: a daemon reads its group's
 * script (`restart-group`) and the scripts every group reads (`restart-every-group`) when it
 * starts. Pure.
 */
import type { FileChange } from '../model/files.js';
import { descriptorOf } from '../render/generated-files.js';

/** The changes to files these groups' daemons load at start: their content differs from the inventory's, or they are missing. */
export function scriptsThatDiffer(changes: FileChange[], groups: string[]): FileChange[] {
  return changes.filter((c) => {
    if (c.accessOnly || c.action === 'delete') return false;
    const effect = descriptorOf(c.kind).effect;
    return effect === 'restart-every-group' || (effect === 'restart-group' && c.group !== undefined && groups.includes(c.group));
  });
}
