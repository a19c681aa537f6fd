/** Human-readable plan output. Pure: returns text, prints nothing. */
import { createTwoFilesPatch } from 'diff';
import type { FileChange } from './file-plan.js';

const symbols = { create: '+', update: '~', delete: '-' } as const;

export function formatFileChange(change: FileChange): string {
  const what = change.group !== undefined ? `${change.kind} ${change.group}` : change.kind;
  return `${symbols[change.action]} ${change.action} ${change.path} (${what})`;
}

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

export function formatFilePlan(changes: FileChange[], withDiff: boolean): string {
  if (changes.length === 0) return 'No changes: every generated file matches the inventory.\n';
  const lines = changes.map((c) => (withDiff ? `${formatFileChange(c)}\n${formatDiff(c)}` : formatFileChange(c)));
  const counts = (['create', 'update', 'delete'] as const)
    .map((a) => [a, changes.filter((c) => c.action === a).length] as const)
    .filter(([, n]) => n > 0)
    .map(([a, n]) => `${n} to ${a}`)
    .join(', ');
  return `${lines.join('\n')}\nPlan: ${counts}. Run \`plexctl render\` to write them.\n`;
}
