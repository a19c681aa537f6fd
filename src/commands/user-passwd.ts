import { ExitCode } from '../exit-codes.js';
import { UserError } from '../errors.js';
import { loadInventory } from '../inventory/load.js';
import type { Io } from '../io.js';
import { bcryptEntry, readHtpasswd, withEntry, writeHtpasswd } from '../apache/htpasswd.js';
import { apacheGid } from '../apache/system-user.js';

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
  if (!inventory.users.some((u) => u.user === options.user)) {
    throw new UserError(`user "${options.user}" is not in the inventory`, `add it first: plexctl user add ${options.user}`);
  }
  const entry = await bcryptEntry(options.user, await readPasswordLine(options.stdin));
  const file = inventory.apache.userFile;
  await writeHtpasswd(file, withEntry(await readHtpasswd(file), options.user, entry), await apacheGid());
  io.out(`Password of ${options.user} set in ${file}.\n`);
  return ExitCode.ok;
}
