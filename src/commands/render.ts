import { resolve } from 'node:path';
import { ExitCode } from '../exit-codes.js';
import { withSession } from '../session.js';
import { json, type Io } from '../io.js';
import { formatFileChange } from '../plan/format.js';
import { writeGeneratedFiles } from '../apply/write-generated-files.js';
import { descriptorOf } from '../render/generated-files.js';
import { eventText } from './words.js';

export interface RenderOptions {
  inventory: string;
  lockTimeoutMs: number;
  out?: string;
  json: boolean;
}

export async function renderCommand(options: RenderOptions, io: Io): Promise<ExitCode> {
  const out = options.out === undefined ? undefined : resolve(options.out);
  const { changes, instanceEvents } = await withSession(options.inventory, options.lockTimeoutMs, (session) => writeGeneratedFiles(session.inventory, out));
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
