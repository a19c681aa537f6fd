import { UserError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { json, type Io } from '../io.js';
import { jsonOption } from '../options.js';
import type { CommandModule } from './command.js';

export async function collectstaticCommand(options: { inventory: string; lockTimeoutMs: number; group?: string; json: boolean }, io: Io): Promise<ExitCode> {
  const [{ withSession }, { collectStatic }] = await Promise.all([import('../session.js'), import('../apply/static-files.js')]);
  const collected = await withSession(options.inventory, options.lockTimeoutMs, async ({ inventory }) => {
    const group = options.group === undefined ? inventory.groups[0] : inventory.groups.find((g) => g.name === options.group);
    if (!group) throw new UserError(`group "${options.group}" is not in the inventory`);
    return collectStatic(inventory, group, (line) => (options.json ? undefined : io.out(`  ${line}\n`)));
  });
  io.out(options.json ? json(collected) : `${collected.files} static files in ${collected.dir} (collected in group ${collected.group}); Apache serves them at once\n`);
  return ExitCode.ok;
}

export const command: CommandModule<[], { group?: string; json: boolean }> = {
  name: 'collectstatic',
  summary: 'collect the site\'s static files into site.static.dir',
  description:
    'run Django\'s collectstatic in one instance (the first group, or --group), as its account and never as ' +
    'root, then put the files (regular files only, root\'s, world-readable) in place of site.static.dir at once',
  configure: (c) => c.option('--group <group>', 'the group to collect in (default: the first)').addOption(jsonOption()),
  run: (_args, o, ctx) => collectstaticCommand({ inventory: ctx.inventory(), lockTimeoutMs: ctx.lockTimeoutMs(), ...(o.group !== undefined ? { group: o.group } : {}), json: o.json }, ctx.io),
};
