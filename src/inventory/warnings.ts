/**
 * What an inventory (or the way plexctl runs) makes unsafe, explicitly allowed: said on every run
 * of status, doctor, plan and reconcile, never silently accepted. Pure.
 */
import type { Inventory } from './types.js';

export function safetyWarnings(inventory: Inventory, asRoot: boolean): string[] {
  const warnings: string[] = [];
  if (inventory.isolation === 'shared') {
    warnings.push('isolation: shared: groups may share an account (or run as Apache\'s), so an instance can read and signal the others; they are NOT isolated');
  } else if (!asRoot) {
    warnings.push('plexctl is not running as root: every group runs as the user Apache runs as, so the groups are NOT isolated (run as root for one account per group)');
  }
  if (inventory.site.onRelease === 'keep') {
    warnings.push('site.on_release: keep: a group that loses its last user keeps that user\'s data for the next tenant');
  }
  return warnings;
}
