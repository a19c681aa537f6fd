import { formatChecks } from '../doctor/check.js';
import { webServerOf } from '../server/for-inventory.js';
import type { WebServer } from '../server/web-server.js';
import { ExitCode } from '../exit-codes.js';
import { loadInventory } from '../inventory/load.js';
import type { Io } from '../io.js';

export interface DoctorOptions {
  inventory: string;
  server?: WebServer;
}

/** Exit 1 if any check FAILs (warnings do not), else 0. */
export async function doctorCommand(options: DoctorOptions, io: Io): Promise<ExitCode> {
  const inventory = await loadInventory(options.inventory);
  const checks = await (options.server ?? webServerOf(inventory)).doctorChecks();
  io.out(formatChecks(checks));
  return checks.some((c) => c.status === 'FAIL') ? ExitCode.failed : ExitCode.ok;
}
