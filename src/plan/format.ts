/** Human-readable lines for file changes. Pure: returns text, prints nothing. */
import type { FileChange } from './file-plan.js';

const symbols = { create: '+', update: '~', delete: '-' } as const;

export function formatFileChange(change: FileChange): string {
  const what = change.group !== undefined ? `${change.kind} ${change.group}` : change.kind;
  return `${symbols[change.action]} ${change.action} ${change.path} (${what})`;
}
