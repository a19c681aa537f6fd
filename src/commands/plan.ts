import { ExitCode } from '../exit-codes.js';
import { loadInventory } from '../inventory/load.js';
import { json, type Io } from '../io.js';
import { formatReconcilePlan, planJson } from './format-plan.js';
import { computePlan } from '../reconcile/reconcile.js';
import { isPending } from '../plan/reconcile-plan.js';

export interface PlanOptions {
  inventory: string;
  diff: boolean;
  json: boolean;
}

/** Everything reconcile would do; changes nothing. */
export async function planCommand(options: PlanOptions, io: Io): Promise<ExitCode> {
  const plan = await computePlan(await loadInventory(options.inventory));
  const diff = options.diff ? (await import('../plan/diff.js')).formatDiff : undefined;
  io.out(options.json ? json(planJson(plan, options.diff)) : formatReconcilePlan(plan, diff));
  return isPending(plan) ? ExitCode.changesPending : ExitCode.ok;
}
