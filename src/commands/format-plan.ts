/** Text and JSON of a reconcile plan. Pure. */
import type { FileChange } from '../model/files.js';
import { formatFileChange } from '../plan/format.js';
import { descriptorOf } from '../render/generated-files.js';
import { isPending, type ReconcilePlan } from '../plan/reconcile-plan.js';

/** `diff`, when given, renders a unified diff under each file change. */
export function formatReconcilePlan(plan: ReconcilePlan, diff?: (change: FileChange) => string): string {
  const lines: string[] = [];
  for (const change of plan.files) lines.push(diff ? `${formatFileChange(change)}\n${diff(change).trimEnd()}` : formatFileChange(change));
  for (const user of plan.removePasswords) lines.push(`- remove ${user} from user_file (not in the inventory)`);
  if (plan.graceful.length > 0) lines.push(`! graceful restart of Apache, which restarts EVERY group: ${plan.graceful.join('; ')}`);
  for (const r of plan.restart) lines.push(`! restart group ${r.group}: ${r.reason}`);
  const notes: string[] = [];
  if (plan.missingPasswords.length > 0) {
    notes.push(`note: no password for ${plan.missingPasswords.join(', ')}: set one with \`plexctl user passwd NAME --password-stdin\``);
  }
  if (plan.missingDaemons.length > 0) notes.push(`note: no daemon runs for ${plan.missingDaemons.join(', ')}`);
  if (plan.strayDaemons.length > 0) notes.push(`note: daemons run for groups not in the inventory: ${plan.strayDaemons.join(', ')}`);
  const summary = isPending(plan)
    ? 'Changes pending: run `plexctl reconcile` to carry them out.'
    : 'Nothing to do: the server matches the inventory.';
  return [...lines, ...notes, summary].join('\n') + '\n';
}

export function planJson(plan: ReconcilePlan, withDiff: boolean) {
  return {
    pending: isPending(plan),
    files: plan.files.map(({ action, path, kind, group, before, after }) => ({
      action,
      path,
      kind,
      group,
      ...(withDiff && descriptorOf(kind).writer !== 'secret' ? { before, after } : {}),
    })),
    removePasswords: plan.removePasswords,
    missingPasswords: plan.missingPasswords,
    graceful: plan.graceful,
    restart: plan.restart,
    missingDaemons: plan.missingDaemons,
    strayDaemons: plan.strayDaemons,
  };
}
