/** Text and JSON of a reconcile plan. Pure. */
import type { FileChange } from '../model/files.js';
import { formatFileChange } from '../plan/format.js';
import { descriptorOf } from '../render/generated-files.js';
import { isPending, type ReconcilePlan } from '../plan/reconcile-plan.js';

/** `diff`, when given, renders a unified diff under each file change. */
export function formatReconcilePlan(plan: ReconcilePlan, diff?: (change: FileChange) => string): string {
  const lines: string[] = [];
  for (const a of plan.instances.accounts) lines.push(`+ create system user ${a.user} for group ${a.group}`);
  for (const d of plan.instances.dirs) {
    lines.push(`${d.action === 'create' ? '+ create' : '~ fix'} directory ${d.path} (mode ${d.mode.toString(8).padStart(4, '0')}${d.owner !== undefined ? `, owner ${d.owner}` : ''})`);
  }
  for (const b of plan.instances.blocked) lines.push(`! ${b.path} ${b.what}: move it away; plexctl will not use it`);
  for (const change of plan.files) lines.push(diff ? `${formatFileChange(change)}\n${diff(change).trimEnd()}` : formatFileChange(change));
  for (const group of plan.init) lines.push(`+ initialise group ${group}: site.init, before anyone is routed to it`);
  for (const user of plan.removePasswords) lines.push(`- remove ${user} from user_file (not in the inventory)`);
  for (const group of plan.release) lines.push(`! release group ${group}: its last user left (data moved aside, its processes ended, fresh daemons)`);
  if (plan.graceful.length > 0) lines.push(`! graceful restart of Apache, which restarts EVERY group: ${plan.graceful.join('; ')}`);
  for (const r of plan.restart) lines.push(`! restart group ${r.group}: ${r.reason}`);
  const notes: string[] = [];
  if (plan.missingPasswords.length > 0) {
    notes.push(`note: no password for ${plan.missingPasswords.join(', ')}: set one with \`plexctl user passwd NAME --password-stdin\``);
  }
  for (const f of plan.instances.foreign) {
    notes.push(`note: group ${f.group} runs as ${f.user}, an account plexctl did not make for it (comment ${JSON.stringify(f.comment)}): a release only restarts its daemons; set site.account_prefix to give this inventory accounts of its own`);
  }
  if (plan.missingDaemons.length > 0) notes.push(`note: no daemon runs for ${plan.missingDaemons.join(', ')}`);
  if (plan.strayDaemons.length > 0) notes.push(`note: daemons run for groups not in the inventory: ${plan.strayDaemons.join(', ')}`);
  for (const s of plan.suspect) notes.push(`note: suspect process ${s.pid}${s.uid !== undefined ? ` (uid ${s.uid})` : ''}: ${s.reason}; plexctl does not act on it`);
  const summary = isPending(plan)
    ? 'Changes pending: run `plexctl reconcile` to carry them out.'
    : 'Nothing to do: the server matches the inventory.';
  return [...lines, ...notes, summary].join('\n') + '\n';
}

export function planJson(plan: ReconcilePlan, withDiff: boolean) {
  return {
    pending: isPending(plan),
    instances: plan.instances,
    files: plan.files.map(({ action, path, kind, group, before, after, accessOnly, access }) => ({
      action,
      path,
      kind,
      group,
      ...(accessOnly ? { accessOnly: { now: accessOnly, want: access } } : {}),
      ...(withDiff && descriptorOf(kind).writer !== 'secret' ? { before, after } : {}),
    })),
    removePasswords: plan.removePasswords,
    missingPasswords: plan.missingPasswords,
    graceful: plan.graceful,
    restart: plan.restart,
    missingDaemons: plan.missingDaemons,
    strayDaemons: plan.strayDaemons,
    suspect: plan.suspect,
    release: plan.release,
    init: plan.init,
  };
}
