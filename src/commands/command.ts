/**
 * What a command is to the CLI: its commander definition (name, texts, arguments, options) and
 * its action. src/cli.ts builds the command line from a list of these. A command module imports
 * only light things at the top (types, commander, src/options.ts, exit codes, errors, io); its
 * action imports the code that does the work, so that start-up pays only for the command that
 * runs (test/startup.test.ts checks what --help and validate load).
 */
import type { Command } from 'commander';
import type { ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';

/** What an action gets from the program besides its own arguments and options. */
export interface CommandContext {
  io: Io;
  /** The inventory path: -i FILE, else $PLEXCTL_INVENTORY, else ./plex.yaml, resolved. */
  inventory(): string;
  /** --lock-timeout, in milliseconds. */
  lockTimeoutMs(): number;
  stdin: NodeJS.ReadableStream;
  /** The whole command line as given (for `manage`, whose own arguments follow "--"). */
  argv: readonly string[];
}

export interface CommandArgument {
  /** commander's syntax: `<name>`, `<group...>`. */
  syntax: string;
  description: string;
}

/**
 * One command. `Args` are its positional arguments as commander passes them (a variadic one is
 * an array), `Opts` its parsed options.
 */
export interface CommandModule<Args extends unknown[] = [], Opts = Record<string, never>> {
  name: string;
  /** One line, shown in the parent's list of commands. */
  summary: string;
  /** Shown in the command's own --help. */
  description: string;
  arguments?: CommandArgument[];
  /** Declares the options, in the order --help lists them. */
  configure?(command: Command): void;
  /** Text after the command's --help. */
  helpAfter?: string;
  /** A command with subcommands (`user add`) may have no action of its own. */
  subcommands?: AnyCommandModule[];
  run?(args: Args, options: Opts, context: CommandContext): Promise<ExitCode>;
}

export type AnyCommandModule = CommandModule<any, any>;
