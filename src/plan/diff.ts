/** A unified diff of one file change (only `plan --diff` loads the diff library). */
import { createTwoFilesPatch } from 'diff';
import type { FileChange } from './file-plan.js';

export function formatDiff(change: FileChange): string {
  return createTwoFilesPatch(
    change.action === 'create' ? '/dev/null' : change.path,
    change.action === 'delete' ? '/dev/null' : change.path,
    change.before ?? '',
    change.after ?? '',
    undefined,
    undefined,
    { context: 3 },
  );
}
