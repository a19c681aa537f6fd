/**
 * The session: every command that changes files (render, serve, reconcile, user) runs inside one: the inventory lock is held, the
 * inventory is read and validated once, and edits are validated before anything is written.
 */
import { InventoryError, UserError, formatProblem } from './errors.js';
import { checkInventoryFile, readInventoryText } from './inventory/load.js';
import type { Inventory } from './inventory/types.js';
import { validateInventoryText } from './inventory/validate.js';
import { acquireLock } from './lock/file-lock.js';
import { dirname, resolve } from 'node:path';
import { removeStaleTempFiles } from './apply/atomic-write.js';

export interface Session {
  file: string;
  text: string;
  inventory: Inventory;
  /** Validate an edited text; a problem becomes a UserError naming `what` (nothing is written). */
  validateEdit(text: string, what: string): Inventory;
}

async function refuseUntrustedInventory(file: string): Promise<void> {
  const { checkTrustedDirectory, checkTrustedFile } = await import('./system/safe-fs.js');
  const bad = [...(await checkTrustedDirectory(dirname(file))), ...(await checkTrustedFile(file))];
  if (bad.length === 0) return;
  throw new UserError(
    `refusing to act as root on an inventory others can change (it names the programs plexctl runs); nothing was written:\n${bad.map((p) => `  ${p.path}: ${p.reason}`).join('\n')}`,
    `fix: ${[...new Set(bad.map((p) => p.fix))].join('; ')}`,
  );
}

/** As root: refuse to write anywhere someone else could change (src/trust.ts); nothing is written. */
async function refuseUntrusted(inventory: Inventory): Promise<void> {
  const { checkTrust } = await import('./trust.js');
  const bad = (await checkTrust(inventory)).flatMap((r) => r.problems.map((p) => ({ ...p, what: r.what })));
  if (bad.length === 0) return;
  throw new UserError(
    `refusing to act as root on paths others can change; nothing was written:\n${bad.map((p) => `  ${p.what}: ${p.path}: ${p.reason}`).join('\n')}`,
    `fix: ${[...new Set(bad.map((p) => p.fix))].join('; ')}`,
  );
}

/**
 * The inventory, read and validated with the same refusals as a session, but without the lock:
 * for a command that runs programs for a long time and writes no file plexctl owns (manage).
 */
export async function loadTrusted(file: string): Promise<Inventory> {
  const absolute = resolve(file);
  await checkInventoryFile(absolute);
  if (process.getuid?.() === 0) await refuseUntrustedInventory(absolute);
  const current = validateInventoryText(absolute, await readInventoryText(absolute));
  if (!current.inventory) throw new InventoryError(current.problems);
  if (process.getuid?.() === 0) await refuseUntrusted(current.inventory);
  return current.inventory;
}

export const lockPathOf = (inventoryFile: string) => `${inventoryFile}.lock`;

export async function withSession<T>(file: string, lockTimeoutMs: number, work: (session: Session) => Promise<T>): Promise<T> {
  const absolute = resolve(file);
  // A missing or unreadable inventory is the clearer error, before any lock file is created.
  await checkInventoryFile(absolute);
  // The lock is written beside the inventory: its directory and the inventory itself first.
  if (process.getuid?.() === 0) await refuseUntrustedInventory(absolute);
  const lock = await acquireLock(lockPathOf(absolute), { timeoutMs: lockTimeoutMs });
  try {
    const text = await readInventoryText(absolute);
    const current = validateInventoryText(absolute, text);
    if (!current.inventory) throw new InventoryError(current.problems);
    // Temp files of a plexctl killed before its rename; we hold the lock, so none is in use.
    if (process.getuid?.() === 0) await refuseUntrusted(current.inventory);
    const { apache } = current.inventory;
    for (const dir of new Set([dirname(absolute), apache.wsgiDir, dirname(apache.userFile), dirname(apache.confFile), ...(apache.siteFile !== undefined ? [dirname(apache.siteFile)] : [])])) {
      await removeStaleTempFiles(dir);
    }
    return await work({
      file: absolute,
      text,
      inventory: current.inventory,
      validateEdit(edited, what) {
        const result = validateInventoryText(absolute, edited);
        if (result.inventory) return result.inventory;
        throw new UserError(`${what} is not allowed: ${result.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
          result.problems.length > 0 ? `nothing was changed (${formatProblem(result.problems[0]!)})` : undefined);
      },
    });
  } finally {
    await lock.release();
  }
}
