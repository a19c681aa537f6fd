import { ExitCode } from '../exit-codes.js';
import { requireGroup } from '../inventory/lookup.js';
import { loadInventory } from '../inventory/load.js';
import { json, type Io } from '../io.js';
import { webServerOf } from '../server/for-inventory.js';
import { formatRestart } from './format-steps.js';

export interface RestartOptions {
  inventory: string;
  groups: string[];
  timeoutMs: number;
  json: boolean;
}

export async function restartCommand(options: RestartOptions, io: Io): Promise<ExitCode> {
  const inventory = await loadInventory(options.inventory);
  for (const group of options.groups) requireGroup(inventory, group);
  const report = await webServerOf(inventory).restartGroups([...new Set(options.groups)], { timeoutMs: options.timeoutMs });
  io.out(options.json ? json(report) : formatRestart(report));
  if (!report.server.running) return ExitCode.failed;
  return report.groups.every((g) => g.done) ? ExitCode.ok : ExitCode.failed;
}
