/** What render would change: desired files against the files on disk. Pure. */
import type { ActualFiles, DesiredFile, FileChange } from '../model/files.js';
import { descriptorOf } from '../render/generated-files.js';

export type { ActualFiles, FileAction, FileChange } from '../model/files.js';

/** The file's mode and owner now, when they are not what its descriptor says (the owner only where plexctl can change it). */
function accessDrift(file: DesiredFile, actual: ActualFiles): { mode: number; uid: number; gid: number } | undefined {
  const now = actual.access?.get(file.path);
  if (!file.access || !now) return undefined;
  const modeWrong = now.mode !== file.access.mode;
  const ownerWrong = actual.groupIds !== undefined && (now.uid !== 0 || now.gid !== actual.groupIds.get(file.access.group));
  return modeWrong || ownerWrong ? now : undefined;
}

/** Writes in the descriptors' write order (nothing refers to a file not yet written); deletions last. */
export function planFiles(desired: DesiredFile[], actual: ActualFiles): FileChange[] {
  const changes: FileChange[] = [];
  const wanted = new Set(desired.map((f) => f.path));
  for (const file of [...desired].sort((a, b) => descriptorOf(a.kind).writeOrder - descriptorOf(b.kind).writeOrder)) {
    const before = actual.contents.get(file.path);
    const descriptor = descriptorOf(file.kind);
    if (descriptor.writer === 'secret') {
      // Kept while usable; otherwise apply makes a fresh one (its content is never in a plan).
      if (before !== undefined && descriptor.usable!(before)) {
        const drift = accessDrift(file, actual);
        if (drift) changes.push({ action: 'update', path: file.path, kind: file.kind, before, after: before, access: file.access!, accessOnly: drift });
        continue;
      }
      changes.push({ action: before === undefined ? 'create' : 'update', path: file.path, kind: file.kind, ...(before !== undefined ? { before } : {}), ...(file.access ? { access: file.access } : {}) });
      continue;
    }
    if (before === file.content) {
      const drift = accessDrift(file, actual);
      if (drift) changes.push({ action: 'update', path: file.path, kind: file.kind, ...(file.group !== undefined ? { group: file.group } : {}), before, after: before, access: file.access!, accessOnly: drift });
      continue;
    }
    changes.push({
      action: before === undefined ? 'create' : 'update',
      path: file.path,
      kind: file.kind,
      ...(file.group !== undefined ? { group: file.group } : {}),
      ...(before !== undefined ? { before } : {}),
      after: file.content,
      ...(file.dbmSource !== undefined ? { dbmSource: file.dbmSource } : {}),
      ...(file.access !== undefined ? { access: file.access } : {}),
    });
  }
  for (const [path, { kind, group, content }] of [...actual.owned].sort(([a], [b]) => a.localeCompare(b))) {
    if (!wanted.has(path)) changes.push({ action: 'delete', path, kind, ...(group !== undefined ? { group } : {}), before: content });
  }
  return changes;
}
