/**
 * The apply layer, the only place that writes generated files (side effects).
 * Carry out file changes. If one fails, every change already made is undone (each file back to
 * its old content, created files removed, deleted files restored) before the error is rethrown.
 */
import { lstat, lutimes, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FileChange } from '../model/files.js';
import { descriptorOf } from '../render/generated-files.js';
import { removeFile, removeStaleTempFiles, setAccess, writeFileAtomic } from './atomic-write.js';
import { groupIdsByName } from '../system/accounts.js';
import { buildDbm } from './dbm-map.js';
import { newSessionKeyFile } from './session-key.js';
import { UserError } from '../errors.js';

/** Directories plexctl creates are searchable by Apache's user (the daemons read the scripts). */
const generatedDirMode = 0o755;

/** Changes carried out, and how to put every file back as it was. */
export interface AppliedFiles {
  changes: FileChange[];
  /** Each file back to its old content (created files removed, deleted ones restored) and its old mtime. */
  undo(): Promise<void>;
}

/** The times of a file before a change, to put back on undo; undefined when there was no regular file. */
type Times = { atimeMs: number; mtimeMs: number } | undefined;

async function timesOf(path: string): Promise<Times> {
  const info = await lstat(path).catch(() => undefined);
  return info?.isFile() ? { atimeMs: info.atimeMs, mtimeMs: info.mtimeMs } : undefined;
}

export async function applyFileChanges(changes: FileChange[]): Promise<AppliedFiles> {
  const dirs = [...new Set(changes.map((c) => dirname(c.path)))];
  for (const dir of dirs) {
    try {
      await mkdir(dir, { recursive: true, mode: generatedDirMode });
    } catch (error) {
      throw new UserError(`cannot create the directory ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); nothing was written`);
    }
    await removeStaleTempFiles(dir);
  }
  const done: { change: FileChange; times: Times }[] = [];
  for (const change of changes) {
    const times = await timesOf(change.path);
    try {
      await applyOne(change);
    } catch (error) {
      await undoApplied(done);
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new UserError(
        `cannot ${change.action} ${change.path} (${reason}); every file written before it was restored`,
        reason === 'EACCES' || reason === 'EPERM' ? 'run as root, or make the path writable' : 'check that the path is a writable file in a writable directory',
      );
    }
    done.push({ change, times });
  }
  return { changes, undo: () => undoApplied(done) };
}

/** root:GROUP for a file's access, when plexctl runs as root and the group exists; undefined otherwise. */
async function ownerOf(change: FileChange): Promise<{ uid: number; gid: number } | undefined> {
  if (!change.access || process.getuid?.() !== 0) return undefined;
  const gid = (await groupIdsByName()).get(change.access.group);
  if (gid === undefined) throw new UserError(`the group ${change.access.group} that must own ${change.path} does not exist`, 'run `plexctl reconcile`: it creates the groups\' accounts first');
  return { uid: 0, gid };
}

async function applyOne(change: FileChange): Promise<void> {
  const descriptor = descriptorOf(change.kind);
  const mode = change.access?.mode ?? descriptor.mode;
  if (change.accessOnly) {
    await setAccess(change.path, mode, await ownerOf(change));
    if (descriptor.writer === 'dbm') await setAccess(change.path.replace(/\.sha256$/, ''), mode, await ownerOf(change)).catch(() => undefined);
    return;
  }
  if (descriptor.writer === 'dbm') return applyDbm(change, mode, await ownerOf(change));
  if (change.action === 'delete') {
    await removeFile(change.path);
  } else if (descriptor.writer === 'secret') {
    // A fresh secret, or (undoing) the one there was.
    const owner = await ownerOf(change);
    await writeFileAtomic(change.path, change.after ?? newSessionKeyFile(), { mode, ...(owner ? { owner } : {}), enforce: true });
  } else {
    const owner = await ownerOf(change);
    await writeFileAtomic(change.path, change.after!, { mode, ...(owner ? { owner } : {}), enforce: change.access !== undefined, freshMtime: descriptor.freshMtime });
  }
}

/** procmap-dbm's path is the sha256 file beside the DBM; the DBM is built first, the sha256 last. */
async function applyDbm(change: FileChange, mode: number, owner: { uid: number; gid: number } | undefined): Promise<void> {
  const dbm = change.path.replace(/\.sha256$/, '');
  if (change.action === 'delete') {
    await removeFile(change.path);
    await removeFile(dbm).catch(() => undefined);
    return;
  }
  // Undo carries no source text: the next run rebuilds from procmap.txt.
  if (change.dbmSource === undefined) return;
  await buildDbm(dbm, change.dbmSource, mode, owner);
  await writeFileAtomic(change.path, change.after!, { mode, ...(owner ? { owner } : {}), enforce: true });
}

/** The inverse of each change, in reverse order. */
export function inverse(change: FileChange): FileChange {
  const { dbmSource: _, access: __, accessOnly: ___, ...rest } = change;
  if (change.action === 'create') return { ...rest, action: 'delete', ...(change.after !== undefined ? { before: change.after } : {}), after: undefined } as FileChange;
  if (change.action === 'delete') return { ...rest, action: 'create', before: undefined, after: change.before! } as FileChange;
  return { ...rest, before: change.after!, after: change.before! };
}

/**
 * Undo in reverse order. Each file gets its old mtime back too: plan compares the mtimes of the
 * scripts and the fragment with the daemons' start, so a restored file with a new mtime would
 * make the next plan restart every group. A map (freshMtime) keeps a new mtime: Apache re-reads
 * it only when its mtime changes.
 */
async function undoApplied(done: { change: FileChange; times: Times }[]): Promise<void> {
  for (const { change, times } of [...done].reverse()) {
    // A mode or owner put right is not put back wrong.
    if (change.accessOnly) continue;
    const restored = await applyOne(inverse(change)).then(() => true, () => false);
    if (restored && times && change.action !== 'create' && !descriptorOf(change.kind).freshMtime) {
      await lutimes(change.path, times.atimeMs / 1000, times.mtimeMs / 1000).catch(() => undefined);
    }
  }
}
