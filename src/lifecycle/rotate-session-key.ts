/**
 * `plexctl session rotate-key`: a new session passphrase, the previous one kept for decrypting
 * (SessionCryptoPassphrase: the first encrypts, all decrypt), so nobody is logged out; a second
 * rotation drops it. Then the graceful restart that reconcile does: config test first, and on a
 * refusal the old key file is put back and Apache is not signalled.
 */
import { readFile } from 'node:fs/promises';
import { UserError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { applyFileChanges } from '../apply/apply-files.js';
import { newPassphrase } from '../apply/session-key.js';
import type { Emit } from '../model/events.js';
import type { FileChange } from '../model/files.js';
import { configRefusal } from '../reconcile/reconcile.js';
import { generatedPaths } from '../render/files.js';
import { formatSessionKeys, parseSessionKeys, rotatedKeys } from '../render/session-key.js';
import { webServerOf } from '../server/for-inventory.js';
import type { WebServer } from '../server/web-server.js';

export interface RotateOptions {
  timeoutMs: number;
  server?: WebServer;
}

export async function rotateSessionKey(inventory: Inventory, options: RotateOptions, emit: Emit): Promise<void> {
  if (inventory.apache.auth !== 'form') {
    throw new UserError('apache.auth is basic: there is no login session and no session key', 'set apache.auth: form in the inventory and run `plexctl reconcile` first');
  }
  const path = generatedPaths(inventory).sessionKey;
  const before = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  const current = before === undefined ? undefined : parseSessionKeys(before);
  if (before === undefined || current === undefined) {
    throw new UserError(`${path} ${before === undefined ? 'does not exist' : 'is not a session key file'}: there is no key to rotate`,
      'run `plexctl reconcile` (or render): it makes a fresh key, which logs everybody out once');
  }
  const keys = rotatedKeys(current, newPassphrase());
  const change: FileChange = { action: 'update', path, kind: 'session-key', before, after: formatSessionKeys(keys) };
  const written = await applyFileChanges([change]);
  emit({ kind: 'session-key', path, passphrases: keys.length, dropped: current.length + 1 - keys.length });

  const server = options.server ?? webServerOf(inventory);
  const observed = await server.observe();
  if (!observed.server.running) {
    emit({ kind: 'not-signalled', reason: observed.server.reason });
    return;
  }
  const test = await server.configTest();
  if (!test.ok) {
    await written.undo();
    throw await configRefusal(test, inventory);
  }
  const startedAt = Date.now();
  const graceful = await server.gracefulReload();
  if (!graceful.ok) {
    await written.undo();
    throw await configRefusal(graceful, inventory);
  }
  emit({ kind: 'graceful', reasons: [`${path} changes (a new session passphrase)`] });
  await server.waitForAllGroups(startedAt, options.timeoutMs);
  emit({ kind: 'serving', groups: inventory.groups.length });
}
