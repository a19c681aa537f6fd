import { ExitCode } from '../exit-codes.js';
import { json, type Io } from '../io.js';
import { withSession } from '../session.js';
import type { Event } from '../model/events.js';
import { formatReconcilePlan, planJson } from './format-plan.js';
import { eventText } from './words.js';
import { reconcile } from '../reconcile/reconcile.js';
import { isPending } from '../plan/reconcile-plan.js';

export interface ReconcileCommandOptions {
  inventory: string;
  lockTimeoutMs: number;
  timeoutMs: number;
  dryRun: boolean;
  json: boolean;
  quiet: boolean;
}

/**
 * For cron: nothing printed when nothing changed; otherwise one timestamped line per action;
 * errors on stderr (the CLI prints them); --json for machines.
 */
export async function reconcileCommand(options: ReconcileCommandOptions, io: Io): Promise<ExitCode> {
  const actions: ({ at: string } & Event)[] = [];
  const report = (event: Event) => {
    const entry = { at: new Date().toISOString(), ...event };
    actions.push(entry);
    if (!options.json) io.out(`${entry.at} ${eventText(event)}\n`);
  };
  const plan = await withSession(options.inventory, options.lockTimeoutMs, (session) =>
    reconcile(session.inventory, { dryRun: options.dryRun, timeoutMs: options.timeoutMs }, report),
  );
  if (options.json) {
    io.out(json({ dryRun: options.dryRun, changed: !options.dryRun && isPending(plan), actions, plan: planJson(plan, false) }));
  } else if (options.dryRun) {
    io.out(formatReconcilePlan(plan));
  } else if (!isPending(plan) && !options.quiet) {
    io.out('Nothing to do: the server matches the inventory.\n');
  }
  return ExitCode.ok;
}
