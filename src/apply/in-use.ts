/**
 * Which groups have had a tenant since their last release (group-marks.ts, set `in-use`). Written
 * once the map routes a user to the group, removed when its release is complete, so a release
 * that was cut short (a crash, a kill) is found and finished by the next `reconcile`.
 */
import type { Inventory } from '../inventory/types.js';
import { groupMarks } from './group-marks.js';

const inUse = groupMarks('in-use');

export const readInUse = (inventory: Inventory) => inUse.read(inventory);
export const markInUse = (inventory: Inventory, groups: string[]) => inUse.mark(inventory, groups);
export const clearInUse = (inventory: Inventory, group: string) => inUse.clear(inventory, group);

/** Groups with a user in the inventory, to mark once the map routes to them. */
export const groupsInUse = (inventory: Inventory) => [...new Set(inventory.users.map((u) => u.group))];
