/**
 * The command line: commander wiring only. Each action normalises its options and calls a
 * command in src/commands/. This is the one place that catches errors and picks the exit code.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ExitCode } from './exit-codes.js';
import { InventoryError, UserError, formatProblem } from './errors.js';
import { inventoryPath } from './inventory/load.js';
import { processIo, type Io } from './io.js';
import { planCommand } from './commands/plan.js';
import { renderCommand } from './commands/render.js';
import { serveCommand } from './commands/serve.js';
import { reconcileCommand } from './commands/reconcile.js';
import { restartCommand } from './commands/restart.js';
import { userAddCommand, userListCommand, userMoveCommand, userPasswdCommand, userRemoveCommand } from './commands/user.js';
import { validateCommand } from './commands/validate.js';
import { doctorCommand } from './commands/doctor.js';
import { schemaCommand } from './commands/schema.js';
import { statusCommand } from './commands/status.js';
import { rotateKeyCommand } from './commands/session.js';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('a number of seconds, 0 or more');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('a port is a whole number from 1 to 65535');
  return n;
}

export function buildProgram(io: Io, setExit: (code: ExitCode) => void): Command {
  const program = new Command('plexctl')
    .description(
      'Serve many isolated instances of one Django site from one Apache: each logged-in user runs in ' +
        'their own mod_wsgi daemon process group, driven by one YAML inventory (plex.yaml).',
    )
    .option('-i, --inventory <file>', 'the inventory (default: $PLEXCTL_INVENTORY, else ./plex.yaml)')
    .addOption(
      new Option('--lock-timeout <seconds>', 'how long a command that changes files waits for another plexctl holding the lock')
        .default(30)
        .argParser(seconds),
    )
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .addHelpText(
      'after',
      '\nExit codes: 0 done (or nothing to do), 1 failed or refused (nothing changed unless said), 2 plan: changes pending.',
    );
  const inventory = () => inventoryPath(program.opts().inventory, process.env, process.cwd());

  program
    .command('validate')
    .summary('check the inventory; write nothing')
    .description('check the inventory and report every problem as FILE:LINE:COL: key.path: message; writes nothing')
    .option('--json', 'machine-readable output', false)
    .action(async (o) => setExit(await validateCommand({ inventory: inventory(), json: o.json }, io)));

  program
    .command('render')
    .summary('write the Apache fragment, WSGI scripts and procmap.txt')
    .description(
      'write the Apache fragment, the WSGI scripts and procmap.txt; only changed files are written, each atomically. ' +
        'Running daemons keep their old scripts until restarted; procmap.txt takes effect on the next request.',
    )
    .option('--out <dir>', 'write the files under DIR instead (DIR/<conf file>, DIR/wsgi/*), for review')
    .option('--json', 'machine-readable output', false)
    .action(async (o) => setExit(await renderCommand({ inventory: inventory(), lockTimeoutMs: program.opts().lockTimeout * 1000, out: o.out, json: o.json }, io)));

  program
    .command('plan')
    .summary('show what reconcile would do (exit 2: changes pending)')
    .description(
      'show everything reconcile would do: files to create, update or delete, user_file entries to remove, ' +
        'groups to restart, a graceful restart of Apache; exit 0 nothing to do, 2 changes pending, 1 error',
    )
    .option('--diff', 'show a unified diff of each file', false)
    .option('--json', 'machine-readable output', false)
    .action(async (o) => setExit(await planCommand({ inventory: inventory(), diff: o.diff, json: o.json }, io)));

  program
    .command('serve')
    .summary('run a private Apache for this inventory on 127.0.0.1')
    .description(
      'render, then run a private Apache for this inventory on 127.0.0.1 (config, logs and sockets in ' +
        '<inventory dir>/.plexctl/serve/); Ctrl-C stops it',
    )
    .addOption(new Option('--port <n>', 'port on 127.0.0.1').default(8080).argParser(port))
    .option('--detach', 'start it in the background and return', false)
    .option('--stop', 'stop the private Apache started with --detach', false)
    .action(async (o) =>
      setExit(await serveCommand({ inventory: inventory(), lockTimeoutMs: program.opts().lockTimeout * 1000, port: o.port, detach: o.detach, stop: o.stop }, io)),
    );

  const lifecycle = (o: { json: boolean; timeout: number }) => ({
    inventory: inventory(),
    lockTimeoutMs: program.opts().lockTimeout * 1000,
    restartTimeoutMs: o.timeout * 1000,
    json: o.json,
  });
  const timeoutOption = () =>
    new Option('--timeout <seconds>', 'how long to wait for a restarted group to serve again').default(15).argParser(seconds);

  const user = program
    .command('user')
    .summary("add, remove, move, passwd, list the site's users")
    .description('the site\'s users on the live server: add, remove, move, passwd, list')
    .addHelpText('after', '\nEach change takes the inventory lock, edits plex.yaml in place (comments and layout kept),\nand says which steps it did; if one fails, running the same command again completes it.');
  user
    .command('add')
    .summary('add a user (restarts its group if it was empty)')
    .description(
      'add a user: inventory, group scripts, restart of the group when it was empty or its script ' +
        'changed (a fresh tenant gets a fresh process), procmap.txt, then the password',
    )
    .argument('<name>', 'the user (REMOTE_USER)')
    .option('--group <group>', 'the group to map it to (default: the first group with no user)')
    .option('--password-stdin', 'read the password as one line from standard input', false)
    .addOption(timeoutOption())
    .option('--json', 'machine-readable output', false)
    .action(async (name: string, o) =>
      setExit(await userAddCommand({ ...lifecycle(o), user: name, group: o.group, passwordStdin: o.passwordStdin, stdin: process.stdin }, io)),
    );
  user
    .command('remove')
    .summary('remove a user, revoking access first')
    .description('remove a user, revoking access first: password entry, procmap.txt, inventory, then restart the group if no user is left in it')
    .argument('<name>', 'the user')
    .addOption(timeoutOption())
    .option('--json', 'machine-readable output', false)
    .action(async (name: string, o) => setExit(await userRemoveCommand({ ...lifecycle(o), user: name }, io)));
  user
    .command('move')
    .summary('map a user to another group')
    .description('map a user to another group: inventory and procmap.txt; the next request lands in the new group')
    .argument('<name>', 'the user')
    .requiredOption('--group <group>', 'the new group')
    .addOption(timeoutOption())
    .option('--json', 'machine-readable output', false)
    .action(async (name: string, o) => setExit(await userMoveCommand({ ...lifecycle(o), user: name, group: o.group }, io)));
  user
    .command('passwd')
    .summary("set a user's password from standard input")
    .description('set a user\'s password in user_file (bcrypt, made by Apache\'s htpasswd)')
    .argument('<name>', 'the user')
    .option('--password-stdin', 'read the password as one line from standard input (the only way: never in argv)', false)
    .option('--json', 'machine-readable output', false)
    .action(async (name: string, o) =>
      setExit(await userPasswdCommand({ ...lifecycle({ ...o, timeout: 0 }), user: name, passwordStdin: o.passwordStdin, stdin: process.stdin }, io)),
    );
  user
    .command('list')
    .summary('list users, groups and whether a password is set')
    .description('the users: group, and whether a password is set')
    .option('--json', 'machine-readable output', false)
    .action(async (o) => setExit(await userListCommand({ inventory: inventory(), json: o.json }, io)));

  const session = program
    .command('session')
    .summary('the login sessions (apache.auth: form)')
    .description('the login sessions of apache.auth: form');
  session
    .command('rotate-key')
    .summary('a new session passphrase; sessions made with the previous one stay valid')
    .description(
      'make a new session passphrase (it encrypts from now on) and keep the previous one for decrypting, ' +
        'so nobody is logged out; a second rotation ends the sessions made before the first. Then, like reconcile: ' +
        'CTL -t (on failure the old key is put back and nothing is signalled) and CTL -k graceful',
    )
    .addOption(new Option('--timeout <seconds>', 'how long to wait for groups to serve again after the restart').default(60).argParser(seconds))
    .option('--json', 'machine-readable output', false)
    .action(async (o) =>
      setExit(await rotateKeyCommand({ inventory: inventory(), lockTimeoutMs: program.opts().lockTimeout * 1000, timeoutMs: o.timeout * 1000, json: o.json }, io)),
    );

  program
    .command('reconcile')
    .summary('make the live server match the inventory (for cron)')
    .description(
      'make the live server match the inventory (for cron): write changed files; for an Apache-level change ' +
        'run CTL -t (on failure restore every file, signal nothing, exit 1) then CTL -k graceful; for a changed ' +
        'script restart that group only; for procmap.txt or user_file alone restart nothing. Prints nothing ' +
        'under --quiet when nothing changed; otherwise one timestamped line per action.',
    )
    .option('--dry-run', 'only show what would be done (like plan)', false)
    .option('--quiet', 'print nothing when there is nothing to do', false)
    .addOption(new Option('--timeout <seconds>', 'how long to wait for groups to serve again after a restart').default(60).argParser(seconds))
    .option('--json', 'machine-readable output', false)
    .action(async (o) =>
      setExit(
        await reconcileCommand(
          { inventory: inventory(), lockTimeoutMs: program.opts().lockTimeout * 1000, timeoutMs: o.timeout * 1000, dryRun: o.dryRun, json: o.json, quiet: o.quiet },
          io,
        ),
      ),
    );

  program
    .command('restart')
    .summary('restart exactly the daemons of some groups')
    .description(
      'send apache.restart_signal to exactly the daemons of these groups (children of the Apache in ' +
        'pid_file whose title is (wsgi:GROUP)), then wait until each was replaced and serves again',
    )
    .argument('<group...>', 'the groups')
    .addOption(timeoutOption())
    .option('--json', 'machine-readable output', false)
    .action(async (groups: string[], o) =>
      setExit(await restartCommand({ inventory: inventory(), groups, timeoutMs: o.timeout * 1000, json: o.json }, io)),
    );
  program
    .command('status')
    .summary('groups, daemons, memory, staleness and drift')
    .description(
      'each group: state (running, stale: started before its script changed, not running), daemon PIDs, ' +
        'uptime, memory and users; Apache\'s parent; managed files that drifted from the inventory. Exit 0',
    )
    .option('--json', 'machine-readable output', false)
    .action(async (o) => setExit(await statusCommand({ inventory: inventory(), json: o.json }, io)));

  program
    .command('doctor')
    .summary('check the Apache side, with fix-it hints')
    .description('check the Apache side (binary, modules, mod_wsgi, Python, Django, pid file, permissions); exit 1 if any check FAILs')
    .action(async () => setExit(await doctorCommand({ inventory: inventory() }, io)));

  program
    .command('schema')
    .summary("print the inventory's JSON Schema")
    .description('print the inventory\'s JSON Schema (draft-07), e.g. for yaml-language-server')
    .action(async () => setExit(await schemaCommand({}, io)));
  return program;
}

export async function main(argv: string[], io: Io = processIo): Promise<ExitCode> {
  let code: ExitCode = ExitCode.ok;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: Io): ExitCode {
  if (error instanceof CommanderError) {
    // --help and --version end here too, successfully; commander already printed its message.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.failed;
  }
  if (error instanceof InventoryError) {
    io.err(error.problems.map((p) => `${formatProblem(p)}\n`).join(''));
    io.err(`plexctl: ${error.message}\n  ${error.hint}\n`);
    return ExitCode.failed;
  }
  if (error instanceof UserError) {
    io.err(`plexctl: ${error.message}\n${error.hint ? `  ${error.hint}\n` : ''}`);
    return ExitCode.failed;
  }
  const errno = error as NodeJS.ErrnoException;
  if (errno && typeof errno.code === 'string' && typeof errno.syscall === 'string') {
    // The file system or the OS refused: name what and where, without a stack trace.
    const hint = errno.code === 'EACCES' || errno.code === 'EPERM' ? 'run as root, or check the file\'s permissions and attributes (lsattr)' : 'check the path';
    io.err(`plexctl: ${errno.message}\n  ${hint}\n`);
    return ExitCode.failed;
  }
  io.err(`plexctl: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return ExitCode.failed;
}
