import { ExitCode } from '../exit-codes.js';
import { json, type Io } from '../io.js';
import { withSession } from '../session.js';
import type { Event } from '../model/events.js';
import { eventText } from './words.js';
import { rotateSessionKey } from '../lifecycle/rotate-session-key.js';

export interface RotateKeyOptions {
  inventory: string;
  lockTimeoutMs: number;
  timeoutMs: number;
  json: boolean;
}

export async function rotateKeyCommand(options: RotateKeyOptions, io: Io): Promise<ExitCode> {
  const actions: Event[] = [];
  const report = (event: Event) => {
    actions.push(event);
    if (!options.json) io.out(`${eventText(event)}\n`);
  };
  await withSession(options.inventory, options.lockTimeoutMs, (session) => rotateSessionKey(session.inventory, { timeoutMs: options.timeoutMs }, report));
  if (options.json) io.out(json({ ok: true, actions }));
  return ExitCode.ok;
}
