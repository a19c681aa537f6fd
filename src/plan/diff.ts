/** A unified diff of one file change (only `plan --diff` loads the diff library). */
import { createTwoFilesPatch } from 'diff';
import type { FileChange } from './file-plan.js';
import { descriptorOf } from '../render/generated-files.js';

export function formatDiff(change: FileChange): string {
  if (descriptorOf(change.kind).writer === 'secret') return `(${descriptorOf(change.kind).label}: its content is secret and never shown)\n`;
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
