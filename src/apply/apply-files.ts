/**
 * The apply layer, the only place that writes generated files (side effects).
 * Carry out file changes. If one fails, every change already made is undone (each file back to
 * its old content, created files removed, deleted files restored) before the error is rethrown.
 */
import { lstat, lutimes, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FileChange } from '../model/files.js';
import { descriptorOf } from '../render/generated-files.js';
import { removeFile, removeStaleTempFiles, setAccess, syncDir, writeFileAtomic } from './atomic-write.js';
import { groupIdsByName } from '../system/accounts.js';
import { buildDbm } from './dbm-map.js';
import { newSessionKeyFile } from './session-key.js';
import { UserError } from '../errors.js';
import { forEachLimited } from '../limited.js';

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
  const groupIds = groupIdsOnce();
  for (const tier of writeTiers(changes)) {
    // Within a tier (files of one write order, say a thousand group scripts) the writes run a
    // few at a time and their directories are synced once at the end; a tier is durable before
    // the next one starts, so the order between kinds (the map last) holds even after a crash
    // of the machine.
    let failure: { change: FileChange; error: unknown } | undefined;
    await forEachLimited(tier, concurrentWrites, async (change) => {
      const times = await timesOf(change.path);
      // Another write may have failed meanwhile: none starts after a failure.
      if (failure !== undefined) return;
      try {
        await applyOne(change, { syncDir: false }, groupIds);
        done.push({ change, times });
      } catch (error) {
        failure ??= { change, error };
        throw error; // no further write starts
      }
    }).catch(() => undefined); // recorded in failure, with its change
    if (failure === undefined) {
      for (const dir of new Set(tier.map((c) => dirname(c.path)))) {
        const error = await syncDir(dir).then(() => undefined, (e: unknown) => e);
        if (error !== undefined) {
          // Named by its directory: the files are written, it is their durability that failed.
          failure = { change: tier.find((c) => dirname(c.path) === dir)!, error: new Error(`fsync of ${dir} failed: ${(error as NodeJS.ErrnoException).code ?? String(error)}`) };
          break;
        }
      }
    }
    if (failure !== undefined) {
      const { change, error } = failure;
      await undoApplied(done);
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new UserError(
        `cannot ${change.action} ${change.path} (${reason}); every file written before it was restored`,
        reason === 'EACCES' || reason === 'EPERM' ? 'run as root, or make the path writable' : 'check that the path is a writable file in a writable directory',
      );
    }
  }
  return { changes, undo: () => undoApplied(done) };
}

/** Enough to keep the disk's queue busy (fsyncs of different files overlap); more buys nothing. */
const concurrentWrites = 8;

/** The changes cut into runs of one write order each, in the order given. */
function writeTiers(changes: FileChange[]): FileChange[][] {
  const tiers: FileChange[][] = [];
  let order: number | undefined;
  for (const change of changes) {
    const o = descriptorOf(change.kind).writeOrder;
    if (tiers.length === 0 || o !== order) tiers.push([]);
    tiers.at(-1)!.push(change);
    order = o;
  }
  return tiers;
}

/**
 * /etc/group, read at most once per applyFileChanges (the accounts its files name were made
 * before it), not once per file: a first render of a thousand group scripts read it a thousand times.
 */
type GroupIds = () => Promise<Map<string, number>>;
function groupIdsOnce(): GroupIds {
  let read: Promise<Map<string, number>> | undefined;
  return () => (read ??= groupIdsByName());
}

/** root:GROUP for a file's access, when plexctl runs as root and the group exists; undefined otherwise. */
async function ownerOf(change: FileChange, groupIds: GroupIds = groupIdsByName): Promise<{ uid: number; gid: number } | undefined> {
  if (!change.access || process.getuid?.() !== 0) return undefined;
  const gid = (await groupIds()).get(change.access.group);
  if (gid === undefined) throw new UserError(`the group ${change.access.group} that must own ${change.path} does not exist`, 'run `plexctl reconcile`: it creates the groups\' accounts first');
  return { uid: 0, gid };
}

async function applyOne(change: FileChange, sync: { syncDir?: boolean } = {}, groupIds?: GroupIds): Promise<void> {
  const descriptor = descriptorOf(change.kind);
  const mode = change.access?.mode ?? descriptor.mode;
  if (change.accessOnly) {
    await setAccess(change.path, mode, await ownerOf(change, groupIds));
    if (descriptor.writer === 'dbm') await setAccess(change.path.replace(/\.sha256$/, ''), mode, await ownerOf(change, groupIds)).catch(() => undefined);
    return;
  }
  if (descriptor.writer === 'dbm') return applyDbm(change, mode, await ownerOf(change, groupIds));
  if (change.action === 'delete') {
    await removeFile(change.path, sync);
  } else if (descriptor.writer === 'secret') {
    // A fresh secret, or (undoing) the one there was.
    const owner = await ownerOf(change, groupIds);
    await writeFileAtomic(change.path, change.after ?? newSessionKeyFile(), { mode, ...(owner ? { owner } : {}), enforce: true });
  } else {
    const owner = await ownerOf(change, groupIds);
    await writeFileAtomic(change.path, change.after!, { mode, ...(owner ? { owner } : {}), enforce: change.access !== undefined, freshMtime: descriptor.freshMtime, ...sync });
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
