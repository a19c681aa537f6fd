/** Where the inventory is, without reading it: light enough for the CLI to import at start-up. */
import { resolve } from 'node:path';

/** `-i FILE`, else $PLEXCTL_INVENTORY, else ./plex.yaml. */
export function inventoryPath(option: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  return resolve(cwd, option ?? (env.PLEXCTL_INVENTORY || 'plex.yaml'));
}
