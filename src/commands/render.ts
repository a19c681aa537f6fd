import { resolve } from 'node:path';
import { ExitCode } from '../exit-codes.js';
import { json, type Io } from '../io.js';
import { jsonOption } from '../options.js';
import type { CommandModule } from './command.js';

export interface RenderOptions {
  inventory: string;
  lockTimeoutMs: number;
  out?: string;
  json: boolean;
}

export async function renderCommand(options: RenderOptions, io: Io): Promise<ExitCode> {
  const [{ withSession }, { formatFileChange }, { writeGeneratedFiles }, { descriptorOf }, { eventText }] = await Promise.all([
    import('../session.js'),
    import('../plan/format.js'),
    import('../apply/write-generated-files.js'),
    import('../render/generated-files.js'),
    import('./words.js'),
  ]);
  const out = options.out === undefined ? undefined : resolve(options.out);
  const { changes, instanceEvents } = await withSession(options.inventory, options.lockTimeoutMs, async (session) => {
    if (out !== undefined && process.getuid?.() === 0) await refuseUntrustedOut(out);
    return writeGeneratedFiles(session.inventory, out);
  });
  if (options.json) {
    io.out(json({ changed: changes.map(({ action, path, kind, group }) => ({ action, path, kind, group })), instances: instanceEvents }));
    return ExitCode.ok;
  }
  for (const event of instanceEvents) io.out(`${eventText(event)}\n`);
  if (changes.length === 0) {
    io.out('Nothing to write: every generated file already matches the inventory.\n');
  } else {
    io.out(changes.map((c) => `${formatFileChange(c)}\n`).join(''));
    if (options.out === undefined && changes.some((c) => descriptorOf(c.kind).effect !== 'none')) {
      io.out(
        'Scripts or the Apache fragment changed: running daemons still use the old ones until they restart\n' +
          '(`plexctl restart GROUP` for a script, a graceful restart of Apache for the fragment).\n',
      );
    }
  }
  return ExitCode.ok;
}

/** As root, --out is written into like wsgi_dir: refused when someone else could change it; nothing is written. */
async function refuseUntrustedOut(out: string): Promise<void> {
  const [{ checkOutDir }, { UserError }] = await Promise.all([import('../trust.js'), import('../errors.js')]);
  const bad = (await checkOutDir(out)).flatMap((r) => r.problems.map((p) => ({ ...p, what: r.what })));
  if (bad.length === 0) return;
  throw new UserError(
    `refusing to act as root on paths others can change; nothing was written:\n${bad.map((p) => `  ${p.what}: ${p.path}: ${p.reason}`).join('\n')}`,
    `fix: ${[...new Set(bad.map((p) => p.fix))].join('; ')}`,
  );
}

export const command: CommandModule<[], { out?: string; json: boolean }> = {
  name: 'render',
  summary: 'write the Apache fragment, WSGI scripts and procmap.txt',
  description:
    'write the Apache fragment, the WSGI scripts and procmap.txt; only changed files are written, each atomically. ' +
    'Running daemons keep their old scripts until restarted; procmap.txt takes effect on the next request.',
  configure: (c) =>
    c.option('--out <dir>', 'write the files under DIR instead (DIR/<conf file>, DIR/wsgi/*), for review').addOption(jsonOption()),
  run: (_args, o, ctx) =>
    renderCommand({ inventory: ctx.inventory(), lockTimeoutMs: ctx.lockTimeoutMs(), out: o.out, json: o.json }, ctx.io),
};
