/** Find and read the inventory file (the only side effects of this folder). */
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InventoryError, UserError } from '../errors.js';
import type { Inventory } from './types.js';
import { validateInventoryText, type Validation } from './validate.js';

/** An inventory larger than this is refused unread: real ones are a few hundred kilobytes at 100k users. */
export const maxInventoryBytes = 32 * 1024 * 1024;

/** Kept here for importers of this module; it lives apart so that the CLI can use it without yaml. */
export { inventoryPath } from './path.js';

/** The inventory exists, is a readable file and is not too large; reads nothing. */
export async function checkInventoryFile(file: string): Promise<void> {
  let size: number;
  try {
    const info = await stat(file);
    if (info.isDirectory()) throw new UserError(`${file}: is a directory, not an inventory file`, 'name the YAML file with -i FILE');
    size = info.size;
    await access(file, constants.R_OK);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw fileError(file, error);
  }
  if (size > maxInventoryBytes) {
    throw new UserError(`${file}: ${size} bytes is larger than the ${maxInventoryBytes}-byte limit for an inventory`);
  }
}

export async function readInventoryText(file: string): Promise<string> {
  await checkInventoryFile(file);
  try {
    const bytes = await readFile(file);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (text.includes('\u0000')) throw new UserError(`${file}: contains NUL bytes; an inventory is UTF-8 YAML text`);
    return text;
  } catch (error) {
    if (error instanceof UserError) throw error;
    if (error instanceof TypeError) throw new UserError(`${file}: is not UTF-8 text; an inventory is UTF-8 YAML`);
    throw fileError(file, error);
  }
}

function fileError(file: string, error: unknown): UserError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    return new UserError(`${file}: no such inventory file`, 'create plex.yaml (see examples/demo/plex.yaml), or name one with -i FILE or PLEXCTL_INVENTORY');
  }
  if (code === 'EACCES') return new UserError(`${file}: permission denied`, 'run as a user that can read the inventory');
  return new UserError(`${file}: cannot be read (${(error as Error).message})`);
}

export async function validateInventoryFile(file: string): Promise<Validation> {
  const absolute = resolve(file);
  return validateInventoryText(absolute, await readInventoryText(absolute));
}

/** Read and validate; throws InventoryError listing every problem. */
export async function loadInventory(file: string): Promise<Inventory> {
  const validation = await validateInventoryFile(file);
  if (!validation.inventory) throw new InventoryError(validation.problems);
  return validation.inventory;
}
