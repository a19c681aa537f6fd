/** What render would change: desired files against the files on disk. Pure. */
import type { DesiredFile, FileKind } from '../render/render.js';

export type FileAction = 'create' | 'update' | 'delete';

export interface FileChange {
  action: FileAction;
  path: string;
  kind: FileKind;
  group?: string;
  /** Content on disk now (undefined for create). */
  before?: string;
  /** Content after the change (undefined for delete). */
  after?: string;
  /** procmap-dbm: the map text to build the DBM from. */
  dbmSource?: string;
}

/** Files on disk: content of each desired path (undefined if missing), and plexctl's own files no longer desired. */
export interface ActualFiles {
  contents: Map<string, string | undefined>;
  /** Files plexctl wrote earlier, found in wsgi_dir (group scripts, the DBM map), by path. */
  owned: Map<string, { kind: FileKind; group?: string; content: string }>;
}

/** Writes come in an order that never leaves a reference dangling: scripts, then the conf, then the map; deletions last. */
const writeOrder: Record<FileKind, number> = { 'main-script': 0, 'group-script': 1, 'apache-conf': 2, procmap: 3, 'procmap-dbm': 4 };

export function planFiles(desired: DesiredFile[], actual: ActualFiles): FileChange[] {
  const changes: FileChange[] = [];
  const wanted = new Set(desired.map((f) => f.path));
  for (const file of [...desired].sort((a, b) => writeOrder[a.kind] - writeOrder[b.kind])) {
    const before = actual.contents.get(file.path);
    if (before === file.content) continue;
    changes.push({
      action: before === undefined ? 'create' : 'update',
      path: file.path,
      kind: file.kind,
      ...(file.group !== undefined ? { group: file.group } : {}),
      ...(before !== undefined ? { before } : {}),
      after: file.content,
      ...(file.dbmSource !== undefined ? { dbmSource: file.dbmSource } : {}),
    });
  }
  for (const [path, { kind, group, content }] of [...actual.owned].sort(([a], [b]) => a.localeCompare(b))) {
    if (!wanted.has(path)) changes.push({ action: 'delete', path, kind, ...(group !== undefined ? { group } : {}), before: content });
  }
  return changes;
}
