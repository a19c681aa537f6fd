/** Passwords in the site's htpasswd file (user_file). */
import { UserError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { bcryptEntry, readHtpasswd, withEntry, writeHtpasswd } from '../apache/htpasswd.js';
import { apacheGid } from '../apache/system-user.js';

export async function setPassword(inventory: Inventory, user: string, password: string): Promise<void> {
  if (!inventory.users.some((u) => u.user === user)) {
    throw new UserError(`user "${user}" is not in the inventory`, `add it first: plexctl user add ${user}`);
  }
  const entry = await bcryptEntry(user, password);
  const file = inventory.apache.userFile;
  await writeHtpasswd(file, withEntry(await readHtpasswd(file), user, entry), await apacheGid());
}
