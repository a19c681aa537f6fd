import { ExitCode } from '../exit-codes.js';
import { json, type Io } from '../io.js';
import type { Event } from '../model/events.js';
import { jsonOption, timeoutOption } from '../options.js';
import type { CommandModule } from './command.js';

export interface RotateKeyOptions {
  inventory: string;
  lockTimeoutMs: number;
  timeoutMs: number;
  json: boolean;
}

export async function rotateKeyCommand(options: RotateKeyOptions, io: Io): Promise<ExitCode> {
  const [{ withSession }, { eventText }, { rotateSessionKey }] = await Promise.all([
    import('../session.js'),
    import('./words.js'),
    import('../lifecycle/rotate-session-key.js'),
  ]);
  const actions: Event[] = [];
  const report = (event: Event) => {
    actions.push(event);
    if (!options.json) io.out(`${eventText(event)}\n`);
  };
  await withSession(options.inventory, options.lockTimeoutMs, (session) => rotateSessionKey(session.inventory, { timeoutMs: options.timeoutMs }, report));
  if (options.json) io.out(json({ ok: true, actions }));
  return ExitCode.ok;
}

const rotateKey: CommandModule<[], { timeout: number; json: boolean }> = {
  name: 'rotate-key',
  summary: 'a new session passphrase; sessions made with the previous one stay valid',
  description:
    'make a new session passphrase (it encrypts from now on) and keep the previous one for decrypting, ' +
    'so nobody is logged out; a second rotation ends the sessions made before the first. Then, like reconcile: ' +
    'CTL -t (on failure the old key is put back and nothing is signalled) and CTL -k graceful',
  configure: (c) => c.addOption(timeoutOption('how long to wait for groups to serve again after the restart', 60)).addOption(jsonOption()),
  run: (_args, o, ctx) => rotateKeyCommand({ inventory: ctx.inventory(), lockTimeoutMs: ctx.lockTimeoutMs(), timeoutMs: o.timeout * 1000, json: o.json }, ctx.io),
};

export const command: CommandModule = {
  name: 'session',
  summary: 'the login sessions (apache.auth: form)',
  description: 'the login sessions of apache.auth: form',
  subcommands: [rotateKey],
};
