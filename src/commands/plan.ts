import { ExitCode } from '../exit-codes.js';
import { loadInventory } from '../inventory/load.js';
import { json, type Io } from '../io.js';
import { formatFilePlan } from '../plan/format.js';
import { planRender } from '../plan/plan-render.js';

export interface PlanOptions {
  inventory: string;
  diff: boolean;
  json: boolean;
}

export async function planCommand(options: PlanOptions, io: Io): Promise<ExitCode> {
  const inventory = await loadInventory(options.inventory);
  const changes = await planRender(inventory);
  if (options.json) {
    io.out(
      json({
        pending: changes.length > 0,
        files: changes.map(({ action, path, kind, group, before, after }) => ({
          action,
          path,
          kind,
          group,
          ...(options.diff ? { before, after } : {}),
        })),
      }),
    );
  } else {
    io.out(formatFilePlan(changes, options.diff));
  }
  return changes.length > 0 ? ExitCode.changesPending : ExitCode.ok;
}
