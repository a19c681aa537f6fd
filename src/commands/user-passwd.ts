import { ExitCode } from '../exit-codes.js';
import { UserError } from '../errors.js';
import { loadInventory } from '../inventory/load.js';
import type { Io } from '../io.js';
import { setPassword } from '../lifecycle/passwords.js';

export interface PasswdOptions {
  inventory: string;
  user: string;
  passwordStdin: boolean;
  stdin: NodeJS.ReadableStream;
}

/** The first line of standard input, without its line ending. */
export async function readPasswordLine(stdin: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stdin) {
    text += chunk.toString();
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

export async function userPasswdCommand(options: PasswdOptions, io: Io): Promise<ExitCode> {
  const inventory = await loadInventory(options.inventory);
  if (!options.passwordStdin) {
    throw new UserError('give the password on standard input with --password-stdin', `for example: printf '%s\\n' "$PW" | plexctl user passwd ${options.user} --password-stdin`);
  }
  await setPassword(inventory, options.user, await readPasswordLine(options.stdin));
  io.out(`Password of ${options.user} set in ${inventory.apache.userFile}.\n`);
  return ExitCode.ok;
}
