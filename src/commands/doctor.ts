import type { ProcessLister } from '../apache/daemons.js';
import { ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import type { CommandModule } from './command.js';

export interface DoctorOptions {
  inventory: string;
  lister?: ProcessLister;
}

/** Exit 1 if any check FAILs (warnings do not), else 0. */
export async function doctorCommand(options: DoctorOptions, io: Io): Promise<ExitCode> {
  const [{ formatChecks, runChecks }, { loadInventory }] = await Promise.all([import('../doctor/checks.js'), import('../inventory/load.js')]);
  const inventory = await loadInventory(options.inventory);
  const checks = await runChecks(inventory, options.lister ? { lister: options.lister } : {});
  io.out(formatChecks(checks));
  return checks.some((c) => c.status === 'FAIL') ? ExitCode.failed : ExitCode.ok;
}

export const command: CommandModule = {
  name: 'doctor',
  summary: 'check the Apache side, with fix-it hints',
  description: 'check the Apache side (binary, modules, mod_wsgi, Python, Django, pid file, permissions); exit 1 if any check FAILs',
  run: (_args, _o, ctx) => doctorCommand({ inventory: ctx.inventory() }, ctx.io),
};
