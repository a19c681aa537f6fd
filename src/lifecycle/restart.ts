/**
 * `plexctl restart GROUP...`: restart exactly these groups' daemons, but never onto scripts that
 * differ from what the inventory renders (an edited inventory not yet reconciled, a hand-edited
 * script), unless forced: reconcile writes them first and restarts what needs it.
 */
import { UserError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { desiredAgainstDisk } from '../observe/actual-files.js';
import { scriptsThatDiffer } from '../plan/restart-guard.js';
import { webServerOf } from '../server/for-inventory.js';
import type { RestartReport, WebServer } from '../server/web-server.js';

export interface RestartOptions {
  timeoutMs: number;
  /** Restart even if the scripts on disk differ from the inventory's. */
  force: boolean;
  server?: WebServer;
}

export async function restartChecked(inventory: Inventory, groups: string[], options: RestartOptions): Promise<RestartReport> {
  if (!options.force) {
    const differ = scriptsThatDiffer(await desiredAgainstDisk(inventory), groups);
    if (differ.length > 0) {
      throw new UserError(
        `not restarted: ${groups.join(', ')} would load ${differ.map((c) => `${c.path} (${c.action === 'create' ? 'missing' : 'differs from what the inventory renders'})`).join(', ')}; nothing was signalled`,
        'run `plexctl reconcile`: it writes the scripts the inventory renders and restarts the groups that load them (or pass --force to restart with the files as they are)',
      );
    }
  }
  return (options.server ?? webServerOf(inventory)).restartGroups(groups, { timeoutMs: options.timeoutMs });
}
