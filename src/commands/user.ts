import { ExitCode } from '../exit-codes.js';
import { UserError } from '../errors.js';
import { loadInventory } from '../inventory/load.js';
import { json, type Io } from '../io.js';
import { formatSteps } from './format-steps.js';
import { withSession } from '../session.js';
import { setPassword } from '../lifecycle/passwords.js';
import { StepsFailed } from '../lifecycle/steps.js';
import { addUser, listUsers, moveUser, removeUserFromSite, type LifecycleReport } from '../lifecycle/users.js';
import type { Session } from '../session.js';

export interface UserCommandOptions {
  inventory: string;
  lockTimeoutMs: number;
  restartTimeoutMs: number;
  json: boolean;
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

async function runLifecycle(
  options: UserCommandOptions,
  io: Io,
  title: string,
  action: (session: Session) => Promise<LifecycleReport>,
): Promise<ExitCode> {
  try {
    const report = await withSession(options.inventory, options.lockTimeoutMs, action);
    if (options.json) io.out(json({ ok: true, steps: report.steps, restart: report.restart }));
    else io.out(`${title}\n${formatSteps(report.steps)}`);
    return ExitCode.ok;
  } catch (error) {
    if (!(error instanceof StepsFailed)) throw error;
    if (options.json) io.out(json({ ok: false, error: error.message, steps: error.steps }));
    else io.out(`${title}\n${formatSteps(error.steps)}`);
    throw error;
  }
}

export async function userAddCommand(
  options: UserCommandOptions & { user: string; group?: string; passwordStdin: boolean; stdin: NodeJS.ReadableStream },
  io: Io,
): Promise<ExitCode> {
  // Read the password before taking the lock or changing anything.
  const password = options.passwordStdin ? await readPasswordLine(options.stdin) : undefined;
  return runLifecycle(options, io, `user add ${options.user}:`, (session) =>
    addUser(session, { user: options.user, ...(options.group !== undefined ? { group: options.group } : {}), ...(password !== undefined ? { password } : {}) }, options),
  );
}

export async function userRemoveCommand(options: UserCommandOptions & { user: string }, io: Io): Promise<ExitCode> {
  return runLifecycle(options, io, `user remove ${options.user}:`, (session) => removeUserFromSite(session, options.user, options));
}

export async function userMoveCommand(options: UserCommandOptions & { user: string; group: string }, io: Io): Promise<ExitCode> {
  return runLifecycle(options, io, `user move ${options.user} -> ${options.group}:`, (session) =>
    moveUser(session, options.user, options.group, options),
  );
}

export async function userPasswdCommand(
  options: UserCommandOptions & { user: string; passwordStdin: boolean; stdin: NodeJS.ReadableStream },
  io: Io,
): Promise<ExitCode> {
  if (!options.passwordStdin) {
    throw new UserError('give the password on standard input with --password-stdin', `for example: printf '%s\\n' "$PW" | plexctl user passwd ${options.user} --password-stdin`);
  }
  const password = await readPasswordLine(options.stdin);
  await withSession(options.inventory, options.lockTimeoutMs, (session) => setPassword(session.inventory, options.user, password));
  io.out(options.json ? json({ ok: true, user: options.user }) : `Password of ${options.user} set.\n`);
  return ExitCode.ok;
}

export async function userListCommand(options: { inventory: string; json: boolean }, io: Io): Promise<ExitCode> {
  const rows = await listUsers(await loadInventory(options.inventory));
  if (options.json) {
    io.out(json(rows));
  } else {
    const width = Math.max(4, ...rows.map((r) => r.user.length));
    io.out(`${'USER'.padEnd(width)}  ${'GROUP'.padEnd(10)}  PASSWORD\n`);
    io.out(rows.map((r) => `${r.user.padEnd(width)}  ${r.group.padEnd(10)}  ${r.password ? 'set' : 'NOT SET'}\n`).join(''));
  }
  return ExitCode.ok;
}
