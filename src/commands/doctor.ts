import type { ProcessLister } from '../apache/daemons.js';
import { formatChecks, runChecks } from '../doctor/checks.js';
import { ExitCode } from '../exit-codes.js';
import { loadInventory } from '../inventory/load.js';
import type { Io } from '../io.js';

export interface DoctorOptions {
  inventory: string;
  lister?: ProcessLister;
}

/** Exit 1 if any check FAILs (warnings do not), else 0. */
export async function doctorCommand(options: DoctorOptions, io: Io): Promise<ExitCode> {
  const inventory = await loadInventory(options.inventory);
  const checks = await runChecks(inventory, options.lister ? { lister: options.lister } : {});
  io.out(formatChecks(checks));
  return checks.some((c) => c.status === 'FAIL') ? ExitCode.failed : ExitCode.ok;
}
