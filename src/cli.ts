/**
 * The command line: commander built from the list of command modules in src/commands/. Each
 * module declares its command and imports the code that does the work only when it runs, so
 * that `plexctl --help` or `plexctl validate` loads no more than it needs. This is the one place
 * that catches errors and picks the exit code.
 */
import { Command, CommanderError } from 'commander';
import { ExitCode } from './exit-codes.js';
import { InventoryError, UserError, formatProblem } from './errors.js';
import { inventoryPath } from './inventory/path.js';
import { processIo, type Io } from './io.js';
import { inventoryOption, lockTimeoutOption } from './options.js';
import type { AnyCommandModule, CommandContext } from './commands/command.js';
import { command as validate } from './commands/validate.js';
import { command as render } from './commands/render.js';
import { command as plan } from './commands/plan.js';
import { command as serve } from './commands/serve.js';
import { command as user } from './commands/user.js';
import { command as reconcile } from './commands/reconcile.js';
import { command as restart } from './commands/restart.js';
import { command as status } from './commands/status.js';
import { command as doctor } from './commands/doctor.js';
import { command as schema } from './commands/schema.js';
import { command as session } from './commands/session.js';
import { command as manage } from './commands/manage.js';
import { command as collectstatic } from './commands/collectstatic.js';

/** Every command, in the order `plexctl --help` lists them. */
export const commands: readonly AnyCommandModule[] = [validate, render, plan, serve, user, session, reconcile, restart, manage, collectstatic, status, doctor, schema];

/** Adds `spec` (and its subcommands) under `parent`. */
function define(parent: Command, spec: AnyCommandModule, context: CommandContext, setExit: (code: ExitCode) => void): void {
  const command = parent.command(spec.name).summary(spec.summary).description(spec.description);
  for (const argument of spec.arguments ?? []) command.argument(argument.syntax, argument.description);
  spec.configure?.(command);
  if (spec.helpAfter !== undefined) command.addHelpText('after', spec.helpAfter);
  for (const sub of spec.subcommands ?? []) define(command, sub, context, setExit);
  const run = spec.run;
  if (run) {
    // commander calls an action with the positional arguments, then the options, then the command.
    command.action(async (...values: unknown[]) => setExit(await run(values.slice(0, -2), values.at(-2), context)));
  }
}

export function buildProgram(io: Io, setExit: (code: ExitCode) => void, argv: readonly string[] = []): Command {
  const program = new Command('plexctl')
    .description(
      'Serve many isolated instances of one Django site from one Apache: each logged-in user runs in ' +
        'their own mod_wsgi daemon process group, driven by one YAML inventory (plex.yaml).',
    )
    .addOption(inventoryOption())
    .addOption(lockTimeoutOption())
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .addHelpText(
      'after',
      '\nExit codes: 0 done (or nothing to do), 1 failed or refused (nothing changed unless said), 2 plan: changes pending.',
    );
  const context: CommandContext = {
    io,
    inventory: () => inventoryPath(program.opts().inventory, process.env, process.cwd()),
    lockTimeoutMs: () => program.opts().lockTimeout * 1000,
    // A getter: process.stdin opens the stream, which only the commands that read it should do.
    get stdin() {
      return process.stdin;
    },
    argv,
  };
  for (const spec of commands) define(program, spec, context, setExit);
  return program;
}

export async function main(argv: string[], io: Io = processIo): Promise<ExitCode> {
  let code: ExitCode = ExitCode.ok;
  const program = buildProgram(io, (c) => (code = c), argv);
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
