/** The render pipeline: desired files -> plan against disk -> apply. */
import { basename, join } from 'node:path';
import { applyFileChanges } from '../apply/apply-files.js';
import type { Inventory } from '../inventory/types.js';
import { renderFiles, type DesiredFile } from '../render/render.js';
import { planFiles, type FileChange } from './file-plan.js';
import { readActualFiles } from './read-actual.js';

/** Retarget the generated files under `outDir` (for review): `DIR/<conf file name>` and `DIR/wsgi/*`. */
export function underOutDir(files: DesiredFile[], inventory: Inventory, outDir: string): { files: DesiredFile[]; wsgiDir: string } {
  const wsgiDir = join(outDir, 'wsgi');
  return {
    wsgiDir,
    files: files.map((f) => ({
      ...f,
      path: f.kind === 'apache-conf' ? join(outDir, basename(inventory.apache.confFile)) : join(wsgiDir, basename(f.path)),
    })),
  };
}

export async function planRender(inventory: Inventory, outDir?: string): Promise<FileChange[]> {
  let files = renderFiles(inventory);
  let wsgiDir = inventory.apache.wsgiDir;
  if (outDir !== undefined) ({ files, wsgiDir } = underOutDir(files, inventory, outDir));
  return planFiles(files, await readActualFiles(files, wsgiDir));
}

export async function render(inventory: Inventory, outDir?: string): Promise<FileChange[]> {
  const changes = await planRender(inventory, outDir);
  await applyFileChanges(changes);
  return changes;
}
