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
import { userPasswdCommand } from './commands/user-passwd.js';
import { validateCommand } from './commands/validate.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('a port is a whole number from 1 to 65535');
  return n;
}

export function buildProgram(io: Io, setExit: (code: ExitCode) => void): Command {
  const program = new Command('plexctl')
    .description(
      'Serve many isolated instances of one Django site from one Apache: each logged-in user runs in\n' +
        'their own mod_wsgi daemon process group, driven by one YAML inventory (plex.yaml).',
    )
    .option('-i, --inventory <file>', 'the inventory (default: $PLEXCTL_INVENTORY, else ./plex.yaml)')
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
    .description('check the inventory and report every problem as FILE:LINE:COL: key.path: message; writes nothing')
    .option('--json', 'machine-readable output', false)
    .action(async (o) => setExit(await validateCommand({ inventory: inventory(), json: o.json }, io)));

  program
    .command('render')
    .description(
      'write the Apache fragment, the WSGI scripts and procmap.txt; only changed files are written, each atomically.\n' +
        'Running daemons keep their old scripts until restarted; procmap.txt takes effect on the next request.',
    )
    .option('--out <dir>', 'write the files under DIR instead (DIR/<conf file>, DIR/wsgi/*), for review')
    .option('--json', 'machine-readable output', false)
    .action(async (o) => setExit(await renderCommand({ inventory: inventory(), out: o.out, json: o.json }, io)));

  program
    .command('plan')
    .description('show what render would create, update or delete; exit 0 nothing to do, 2 changes pending, 1 error')
    .option('--diff', 'show a unified diff of each file', false)
    .option('--json', 'machine-readable output', false)
    .action(async (o) => setExit(await planCommand({ inventory: inventory(), diff: o.diff, json: o.json }, io)));

  program
    .command('serve')
    .description(
      'render, then run a private Apache for this inventory on 127.0.0.1 (config, logs and sockets in\n' +
        '<inventory dir>/.plexctl/serve/); Ctrl-C stops it',
    )
    .addOption(new Option('--port <n>', 'port on 127.0.0.1').default(8080).argParser(port))
    .option('--detach', 'start it in the background and return', false)
    .option('--stop', 'stop the private Apache started with --detach', false)
    .action(async (o) =>
      setExit(await serveCommand({ inventory: inventory(), port: o.port, detach: o.detach, stop: o.stop }, io)),
    );

  const user = program.command('user').description('manage the site\'s users');
  user
    .command('passwd')
    .description('set a user\'s password in user_file (bcrypt), read as one line from standard input')
    .argument('<name>', 'the user')
    .option('--password-stdin', 'read the password from standard input (the only way: never in argv)', false)
    .action(async (name: string, o) =>
      setExit(await userPasswdCommand({ inventory: inventory(), user: name, passwordStdin: o.passwordStdin, stdin: process.stdin }, io)),
    );
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
  io.err(`plexctl: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return ExitCode.failed;
}
