/** Human-readable lines for file changes. Pure: returns text, prints nothing. */
import type { FileChange } from './file-plan.js';

const symbols = { create: '+', update: '~', delete: '-' } as const;

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

export function formatFileChange(change: FileChange): string {
  const what = change.group !== undefined ? `${change.kind} ${change.group}` : change.kind;
  const access = change.accessOnly && change.access ? `: mode ${octal(change.accessOnly.mode)} uid ${change.accessOnly.uid} gid ${change.accessOnly.gid} -> mode ${octal(change.access.mode)} group ${change.access.group}` : '';
  return `${symbols[change.action]} ${change.action} ${change.path} (${what})${access}`;
}
