/** The credentials store an inventory uses. One kind today: the password file at apache.user_file. */
import type { Inventory } from '../inventory/types.js';
import { passwordFileCredentials } from '../apache/password-file-credentials.js';
import type { Credentials } from './credentials.js';

export function credentialsOf(inventory: Inventory): Credentials {
  return passwordFileCredentials(inventory.apache.userFile, inventory.apache.bcryptCost);
}
