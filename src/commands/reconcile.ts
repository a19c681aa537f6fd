import { ExitCode } from '../exit-codes.js';
import { json, type Io } from '../io.js';
import { jsonOption, timeoutOption } from '../options.js';
import type { CommandModule } from './command.js';
import type { Event } from '../model/events.js';

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
  const { safetyWarnings } = await import('../inventory/warnings.js');
  const [{ withSession }, { formatReconcilePlan, planJson }, { reconcile }, { isPending }, { eventText }] = await Promise.all([
    import('../session.js'),
    import('./format-plan.js'),
    import('../reconcile/reconcile.js'),
    import('../plan/reconcile-plan.js'),
    import('./words.js'),
  ]);
  const actions: ({ at: string } & Event)[] = [];
  const report = (event: Event) => {
    const entry = { at: new Date().toISOString(), ...event };
    actions.push(entry);
    if (!options.json) io.out(`${entry.at} ${eventText(event)}\n`);
  };
  const plan = await withSession(options.inventory, options.lockTimeoutMs, (session) => {
    for (const warning of safetyWarnings(session.inventory, process.getuid?.() === 0)) io.err(`warning: ${warning}\n`);
    return reconcile(session.inventory, { dryRun: options.dryRun, timeoutMs: options.timeoutMs }, report);
  });
  if (options.json) {
    io.out(json({ dryRun: options.dryRun, changed: !options.dryRun && isPending(plan), actions, plan: planJson(plan, false) }));
  } else if (options.dryRun) {
    io.out(formatReconcilePlan(plan));
  } else if (!isPending(plan) && !options.quiet) {
    io.out('Nothing to do: the server matches the inventory.\n');
  }
  // --dry-run exits as plan does: 2 when changes are pending.
  return options.dryRun && isPending(plan) ? ExitCode.changesPending : ExitCode.ok;
}

export const command: CommandModule<[], { dryRun: boolean; quiet: boolean; timeout: number; json: boolean }> = {
  name: 'reconcile',
  summary: 'make the live server match the inventory (for cron)',
  description:
    'make the live server match the inventory (for cron): write changed files; for an Apache-level change ' +
    'run CTL -t (on failure restore every file, signal nothing, exit 1) then CTL -k graceful; for a changed ' +
    'script restart that group only; for procmap.txt or user_file alone restart nothing. Prints nothing ' +
    'under --quiet when nothing changed; otherwise one timestamped line per action.',
  configure: (c) =>
    c
      .option('--dry-run', 'only show what would be done (like plan)', false)
      .option('--quiet', 'print nothing when there is nothing to do', false)
      .addOption(timeoutOption('how long to wait for groups to serve again after a restart', 60))
      .addOption(jsonOption()),
  run: (_args, o, ctx) =>
    reconcileCommand(
      { inventory: ctx.inventory(), lockTimeoutMs: ctx.lockTimeoutMs(), timeoutMs: o.timeout * 1000, dryRun: o.dryRun, json: o.json, quiet: o.quiet },
      ctx.io,
    ),
};
