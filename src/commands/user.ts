import { ExitCode } from '../exit-codes.js';
import { UserError } from '../errors.js';
import { json, type Io } from '../io.js';
import type { LifecycleReport } from '../lifecycle/users.js';
import type { Session } from '../session.js';
import { jsonOption, timeoutOption } from '../options.js';
import type { CommandContext, CommandModule } from './command.js';

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
  const [{ formatSteps }, { withSession }, { StepsFailed }] = await Promise.all([
    import('./format-steps.js'),
    import('../session.js'),
    import('../lifecycle/steps.js'),
  ]);
  try {
    const report = await withSession(options.inventory, options.lockTimeoutMs, action);
    const already = report.already ? `  ${report.already.user} is already in group ${report.already.group}: nothing to move\n` : '';
    if (options.json) io.out(json({ ok: true, steps: report.steps, restart: report.restart, ...(report.already ? { already: report.already } : {}) }));
    else io.out(`${title}\n${already}${formatSteps(report.steps)}`);
    return ExitCode.ok;
  } catch (error) {
    if (!(error instanceof StepsFailed)) throw error;
    if (options.json) io.out(json({ ok: false, error: error.message, steps: error.steps }));
    else io.out(`${title}\n${formatSteps(error.steps)}`);
    throw error;
  }
}

const lifecycle = () => import('../lifecycle/users.js');

export async function userAddCommand(
  options: UserCommandOptions & { user: string; group?: string; passwordStdin: boolean; stdin: NodeJS.ReadableStream },
  io: Io,
): Promise<ExitCode> {
  // Read the password before taking the lock or changing anything.
  const password = options.passwordStdin ? await readPasswordLine(options.stdin) : undefined;
  const { addUser } = await lifecycle();
  return runLifecycle(options, io, `user add ${options.user}:`, (session) =>
    addUser(session, { user: options.user, ...(options.group !== undefined ? { group: options.group } : {}), ...(password !== undefined ? { password } : {}) }, options),
  );
}

export async function userRemoveCommand(options: UserCommandOptions & { user: string }, io: Io): Promise<ExitCode> {
  const { removeUserFromSite } = await lifecycle();
  return runLifecycle(options, io, `user remove ${options.user}:`, (session) => removeUserFromSite(session, options.user, options));
}

export async function userMoveCommand(options: UserCommandOptions & { user: string; group: string }, io: Io): Promise<ExitCode> {
  const { moveUser } = await lifecycle();
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
  const [{ withSession }, { setPassword }] = await Promise.all([import('../session.js'), import('../lifecycle/passwords.js')]);
  await withSession(options.inventory, options.lockTimeoutMs, (session) => setPassword(session.inventory, options.user, password));
  io.out(options.json ? json({ ok: true, user: options.user }) : `Password of ${options.user} set.\n`);
  return ExitCode.ok;
}

export async function userListCommand(options: { inventory: string; json: boolean }, io: Io): Promise<ExitCode> {
  const [{ loadInventory }, { listUsers }] = await Promise.all([import('../inventory/load.js'), lifecycle()]);
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

/** The options every changing user command passes on. */
const common = (ctx: CommandContext, o: { json: boolean; timeout: number }): UserCommandOptions => ({
  inventory: ctx.inventory(),
  lockTimeoutMs: ctx.lockTimeoutMs(),
  restartTimeoutMs: o.timeout * 1000,
  json: o.json,
});
const nameArgument = (description: string) => [{ syntax: '<name>', description }];

const add: CommandModule<[string], { group?: string; passwordStdin: boolean; timeout: number; json: boolean }> = {
  name: 'add',
  summary: 'add a user (restarts its group if it was empty)',
  description:
    'add a user: inventory, group scripts, restart of the group when it was empty or its script ' +
    'changed (a fresh tenant gets a fresh process), procmap.txt, then the password',
  arguments: nameArgument('the user (REMOTE_USER)'),
  configure: (c) =>
    c
      .option('--group <group>', 'the group to map it to (default: the first group with no user)')
      .option('--password-stdin', 'read the password as one line from standard input', false)
      .addOption(timeoutOption())
      .addOption(jsonOption()),
  run: ([name], o, ctx) =>
    userAddCommand({ ...common(ctx, o), user: name, group: o.group, passwordStdin: o.passwordStdin, stdin: ctx.stdin }, ctx.io),
};

const remove: CommandModule<[string], { timeout: number; json: boolean }> = {
  name: 'remove',
  summary: 'remove a user, revoking access first',
  description: 'remove a user, revoking access first: password entry, procmap.txt, inventory, then restart the group if no user is left in it',
  arguments: nameArgument('the user'),
  configure: (c) => c.addOption(timeoutOption()).addOption(jsonOption()),
  run: ([name], o, ctx) => userRemoveCommand({ ...common(ctx, o), user: name }, ctx.io),
};

const move: CommandModule<[string], { group: string; timeout: number; json: boolean }> = {
  name: 'move',
  summary: 'map a user to another group',
  description: 'map a user to another group: inventory and procmap.txt; the next request lands in the new group',
  arguments: nameArgument('the user'),
  configure: (c) => c.requiredOption('--group <group>', 'the new group').addOption(timeoutOption()).addOption(jsonOption()),
  run: ([name], o, ctx) => userMoveCommand({ ...common(ctx, o), user: name, group: o.group }, ctx.io),
};

const passwd: CommandModule<[string], { passwordStdin: boolean; json: boolean }> = {
  name: 'passwd',
  summary: "set a user's password from standard input",
  description: "set a user's password in user_file (bcrypt, cost apache.bcrypt_cost)",
  arguments: nameArgument('the user'),
  configure: (c) =>
    c.option('--password-stdin', 'read the password as one line from standard input (the only way: never in argv)', false).addOption(jsonOption()),
  run: ([name], o, ctx) =>
    userPasswdCommand({ ...common(ctx, { ...o, timeout: 0 }), user: name, passwordStdin: o.passwordStdin, stdin: ctx.stdin }, ctx.io),
};

const list: CommandModule<[], { json: boolean }> = {
  name: 'list',
  summary: 'list users, groups and whether a password is set',
  description: 'the users: group, and whether a password is set',
  configure: (c) => c.addOption(jsonOption()),
  run: (_args, o, ctx) => userListCommand({ inventory: ctx.inventory(), json: o.json }, ctx.io),
};

export const command: CommandModule = {
  name: 'user',
  summary: "add, remove, move, passwd, list the site's users",
  description: "the site's users on the live server: add, remove, move, passwd, list",
  helpAfter:
    '\nEach change takes the inventory lock, edits plex.yaml in place (comments and layout kept),\n' +
    'and says which steps it did; if one fails, running the same command again completes it.',
  subcommands: [add, remove, move, passwd, list],
};
