import { ExitCode } from '../exit-codes.js';
import { UserError } from '../errors.js';
import { didYouMean } from '../inventory/did-you-mean.js';
import { loadInventory } from '../inventory/load.js';
import { json, type Io } from '../io.js';
import { formatRestart } from '../lifecycle/format.js';
import { restartGroups } from '../lifecycle/restart.js';

export interface RestartOptions {
  inventory: string;
  groups: string[];
  timeoutMs: number;
  json: boolean;
}

export async function restartCommand(options: RestartOptions, io: Io): Promise<ExitCode> {
  const inventory = await loadInventory(options.inventory);
  const names = inventory.groups.map((g) => g.name);
  for (const group of options.groups) {
    if (!names.includes(group)) throw new UserError(`group "${group}" is not in the inventory${didYouMean(group, names)}`, `the groups are: ${names.join(', ')}`);
  }
  const report = await restartGroups(inventory, [...new Set(options.groups)], { timeoutMs: options.timeoutMs });
  io.out(options.json ? json(report) : formatRestart(report));
  if (!report.apache.running) return ExitCode.failed;
  return report.groups.every((g) => g.done) ? ExitCode.ok : ExitCode.failed;
}
