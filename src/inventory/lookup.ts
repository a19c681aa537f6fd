/** Looking up groups and users of a validated inventory, with did-you-mean errors. Pure. */
import { UserError } from '../errors.js';
import { didYouMean } from './did-you-mean.js';
import type { Inventory } from './types.js';

export const usersOf = (inventory: Inventory, group: string) => inventory.users.filter((u) => u.group === group);

export function requireGroup(inventory: Inventory, group: string): void {
  const names = inventory.groups.map((g) => g.name);
  if (!names.includes(group)) {
    throw new UserError(`group "${group}" is not in the inventory${didYouMean(group, names)}`, `the groups are: ${names.join(', ')}`);
  }
}

export function requireUser(inventory: Inventory, user: string): string {
  const mapping = inventory.users.find((u) => u.user === user);
  if (!mapping) {
    throw new UserError(`user "${user}" is not in the inventory${didYouMean(user, inventory.users.map((u) => u.user))}`, 'see `plexctl user list`');
  }
  return mapping.group;
}
