import { Option } from 'commander';
import { UserError } from '../errors.js';
import type { ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import type { CommandModule } from './command.js';

export interface ManageOptions {
  inventory: string;
  groups: string[];
  all: boolean;
  args: string[];
  env: string[];
}

/** `--env NAME=VALUE`, or `--env NAME` to pass the caller's value on (a password, say, kept off the command line). */
export function envEntries(specs: string[], from: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const name = eq < 0 ? spec : spec.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UserError(`--env ${spec}: not NAME or NAME=VALUE`);
    const value = eq < 0 ? from[name] : spec.slice(eq + 1);
    if (value === undefined) throw new UserError(`--env ${name}: ${name} is not set in this environment`, `set it, or give --env ${name}=VALUE`);
    env[name] = value;
  }
  return env;
}

export async function manageCommand(options: ManageOptions, io: Io): Promise<ExitCode> {
  const [{ loadTrusted }, { requireGroup }, { runManagement }] = await Promise.all([
    import('../session.js'),
    import('../inventory/lookup.js'),
    import('../apply/management.js'),
  ]);
  if (options.args.length === 0) throw new UserError('no management command given', 'put it after "--": plexctl manage GROUP -- migrate --noinput');
  if (options.all === (options.groups.length > 0)) throw new UserError(options.all ? 'name groups or give --all, not both' : 'name the groups to run it in, or give --all');
  const inventory = await loadTrusted(options.inventory);
  const names = options.all ? inventory.groups.map((g) => g.name) : [...new Set(options.groups)];
  for (const name of names) requireGroup(inventory, name);
  const env = envEntries(options.env, process.env);
  if (names.length === 1) {
    // One group: the terminal is the command's own (stdin, stdout, stderr, its exit code).
    const group = inventory.groups.find((g) => g.name === names[0])!;
    return (await runManagement(inventory, group, options.args, { env }, 'inherit')).exitCode as ExitCode;
  }
  let worst = 0;
  for (const name of names) {
    const group = inventory.groups.find((g) => g.name === name)!;
    const result = await runManagement(inventory, group, options.args, { env }, 'pipe', (line) => io.out(`${name}: ${line}\n`));
    if (result.exitCode !== 0) io.err(`${name}: exited ${result.exitCode}\n`);
    worst = Math.max(worst, result.exitCode);
  }
  return worst as ExitCode;
}

export const command: CommandModule<[string[]], { all: boolean; env: string[] }> = {
  name: 'manage',
  summary: 'run a Django management command in instances (plexctl manage GROUP... -- ARGS)',
  description:
    'run a Django management command in exactly each group\'s instance: its account, its python ' +
    '(python-home), its env, PLEXCTL_DATA_DIR, its settings module and settings overrides, loaded by the ' +
    'same generated settings script its daemons import. A clean environment, not yours. With one group, ' +
    'stdin, stdout, stderr and the exit code are the command\'s; with several, each output line is ' +
    'prefixed with the group and the exit code is the worst one.',
  arguments: [{ syntax: '[groups...]', description: 'the groups, then "--" and the command (migrate, shell -c ..., createsuperuser ...)' }],
  configure: (c) =>
    c
      .option('--all', 'every group of the inventory, one after another', false)
      .addOption(new Option('--env <NAME[=VALUE]>', 'add an environment variable (NAME alone: your value of it); repeatable').default([]).argParser((v: string, acc: string[]) => [...acc, v])),
  helpAfter: '\nExamples:\n  plexctl manage django1 -- migrate --noinput\n  plexctl manage --all -- showmigrations\n  DJANGO_SUPERUSER_PASSWORD=... plexctl manage django1 --env DJANGO_SUPERUSER_PASSWORD -- createsuperuser --noinput --username admin --email admin@example.org\n',
  run: ([words], o, ctx) => {
    const dashes = ctx.argv.indexOf('--');
    const after = dashes < 0 ? [] : ctx.argv.slice(dashes + 1);
    const groups = words.slice(0, words.length - after.length);
    return manageCommand({ inventory: ctx.inventory(), groups, all: o.all, args: after, env: o.env }, ctx.io);
  },
};
