import { ExitCode } from '../exit-codes.js';
import { json, type Io } from '../io.js';
import { jsonOption, timeoutOption } from '../options.js';
import type { CommandModule } from './command.js';

export interface RestartOptions {
  inventory: string;
  groups: string[];
  timeoutMs: number;
  json: boolean;
  force: boolean;
}

export async function restartCommand(options: RestartOptions, io: Io): Promise<ExitCode> {
  const [{ requireGroup }, { loadInventory }, { formatRestart }, { restartChecked }] = await Promise.all([
    import('../inventory/lookup.js'),
    import('../inventory/load.js'),
    import('./format-steps.js'),
    import('../lifecycle/restart.js'),
  ]);
  const inventory = await loadInventory(options.inventory);
  for (const group of options.groups) requireGroup(inventory, group);
  const report = await restartChecked(inventory, [...new Set(options.groups)], { timeoutMs: options.timeoutMs, force: options.force });
  io.out(options.json ? json(report) : formatRestart(report));
  if (!report.server.running) return ExitCode.failed;
  return report.groups.every((g) => g.done) ? ExitCode.ok : ExitCode.failed;
}

export const command: CommandModule<[string[]], { timeout: number; json: boolean; force: boolean }> = {
  name: 'restart',
  summary: 'restart exactly the daemons of some groups',
  description:
    'send apache.restart_signal to exactly the daemons of these groups (children of the Apache in ' +
    'pid_file running as the group\'s account), then wait until each was replaced and serves again; ' +
    'refused when a script they load differs from what the inventory renders (run reconcile, or --force)',
  arguments: [{ syntax: '<group...>', description: 'the groups' }],
  configure: (c) =>
    c
      .addOption(timeoutOption())
      .option('--force', 'restart even if a script they load differs from what the inventory renders', false)
      .addOption(jsonOption()),
  run: ([groups], o, ctx) => restartCommand({ inventory: ctx.inventory(), groups, timeoutMs: o.timeout * 1000, json: o.json, force: o.force }, ctx.io),
};
