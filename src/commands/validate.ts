import { formatProblem } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { json, type Io } from '../io.js';
import { jsonOption } from '../options.js';
import type { CommandModule } from './command.js';

export interface ValidateOptions {
  inventory: string;
  json: boolean;
}

export async function validateCommand(options: ValidateOptions, io: Io): Promise<ExitCode> {
  // Reading and validating needs yaml and the inventory modules, nothing of rendering or Apache.
  const { validateInventoryFile } = await import('../inventory/load.js');
  const { inventory, problems, notices } = await validateInventoryFile(options.inventory);
  if (options.json) {
    io.out(json({ valid: problems.length === 0, file: options.inventory, problems, notices }));
  } else if (inventory) {
    io.out(`${options.inventory}: valid (${inventory.groups.length} groups, ${inventory.users.length} users)\n`);
    io.err(notices.map((n) => `note: ${formatProblem(n)}\n`).join(''));
  } else {
    io.err(problems.map((p) => `${formatProblem(p)}\n`).join(''));
    io.err(`${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was written.\n`);
  }
  return problems.length === 0 ? ExitCode.ok : ExitCode.failed;
}

export const command: CommandModule<[], { json: boolean }> = {
  name: 'validate',
  summary: 'check the inventory; write nothing',
  description: 'check the inventory and report every problem as FILE:LINE:COL: key.path: message; writes nothing',
  configure: (c) => c.addOption(jsonOption()),
  run: (_args, o, ctx) => validateCommand({ inventory: ctx.inventory(), json: o.json }, ctx.io),
};
