import { ExitCode } from '../exit-codes.js';
import { json, type Io } from '../io.js';
import { jsonOption } from '../options.js';
import type { CommandModule } from './command.js';

export interface PlanOptions {
  inventory: string;
  diff: boolean;
  json: boolean;
}

/** Everything reconcile would do; changes nothing. */
export async function planCommand(options: PlanOptions, io: Io): Promise<ExitCode> {
  const { safetyWarnings } = await import('../inventory/warnings.js');
  const [{ loadInventory }, { formatReconcilePlan, planJson }, { computePlan }, { isPending }] = await Promise.all([
    import('../inventory/load.js'),
    import('./format-plan.js'),
    import('../reconcile/reconcile.js'),
    import('../plan/reconcile-plan.js'),
  ]);
  const inventory = await loadInventory(options.inventory);
  for (const warning of safetyWarnings(inventory, process.getuid?.() === 0)) io.err(`warning: ${warning}\n`);
  const plan = await computePlan(inventory);
  const diff = options.diff ? (await import('../plan/diff.js')).formatDiff : undefined;
  io.out(options.json ? json(planJson(plan, options.diff)) : formatReconcilePlan(plan, diff));
  return isPending(plan) ? ExitCode.changesPending : ExitCode.ok;
}

export const command: CommandModule<[], { diff: boolean; json: boolean }> = {
  name: 'plan',
  summary: 'show what reconcile would do (exit 2: changes pending)',
  description:
    'show everything reconcile would do: files to create, update or delete, user_file entries to remove, ' +
    'groups to restart, a graceful restart of Apache; exit 0 nothing to do, 2 changes pending, 1 error',
  configure: (c) => c.option('--diff', 'show a unified diff of each file', false).addOption(jsonOption()),
  run: (_args, o, ctx) => planCommand({ inventory: ctx.inventory(), diff: o.diff, json: o.json }, ctx.io),
};
