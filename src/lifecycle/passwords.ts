/** Setting a user's password in the inventory's credentials store. */
import { UserError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { credentialsOf } from '../credentials/for-inventory.js';

export async function setPassword(inventory: Inventory, user: string, password: string): Promise<void> {
  if (!inventory.users.some((u) => u.user === user)) {
    throw new UserError(`user "${user}" is not in the inventory`, `add it first: plexctl user add ${user}`);
  }
  await credentialsOf(inventory).set(user, password);
}
