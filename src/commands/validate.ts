import { ExitCode } from '../exit-codes.js';
import { formatProblem } from '../errors.js';
import { validateInventoryFile } from '../inventory/load.js';
import { json, type Io } from '../io.js';

export interface ValidateOptions {
  inventory: string;
  json: boolean;
}

export async function validateCommand(options: ValidateOptions, io: Io): Promise<ExitCode> {
  const { inventory, problems } = await validateInventoryFile(options.inventory);
  if (options.json) {
    io.out(json({ valid: problems.length === 0, file: options.inventory, problems }));
  } else if (inventory) {
    io.out(`${options.inventory}: valid (${inventory.groups.length} groups, ${inventory.users.length} users)\n`);
  } else {
    io.err(problems.map((p) => `${formatProblem(p)}\n`).join(''));
    io.err(`${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was written.\n`);
  }
  return problems.length === 0 ? ExitCode.ok : ExitCode.failed;
}
