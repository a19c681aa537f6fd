/**
 * Atomic file replacement: a reader (Apache, mod_wsgi, the next plexctl run) sees either the
 * whole old file or the whole new one, even if plexctl is killed half-way.
 */
import { randomBytes } from 'node:crypto';
import { lstat, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import { UserError } from '../errors.js';
import { hardLinked } from '../system/safe-fs.js';
import { basename, dirname, join } from 'node:path';

export interface WriteOptions {
  /** Mode of a new file (an existing file keeps its own mode and owner, unless `enforce`). */
  mode?: number;
  /** Owner of a new file, when running as root. */
  owner?: { uid: number; gid: number };
  /** Give the file `mode` and `owner` even if it exists with others (generated files: drift is repaired). */
  enforce?: boolean;
  /**
   * Give the new file an mtime different from the old one. Apache re-reads a RewriteMap only when
   * its mtime changes, and two writes within one clock tick (or on a coarse filesystem) could
   * otherwise share an mtime.
   */
  freshMtime?: boolean;
  /**
   * fsync the directory after the rename (default true). A caller that writes many files into
   * one directory passes false and syncs the directory once after the last (syncDir): the same
   * durability for one fsync instead of one per file.
   */
  syncDir?: boolean;
}

const tempSuffix = '.plexctl-tmp';
const tempPattern = /^\..+\.(\d+)-[0-9a-f]+\.plexctl-tmp$/;

export async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The file at `path` now, never through a link: a symlink, FIFO, socket, device or directory
 * where plexctl replaces a file is refused (its mode and owner must not be copied from elsewhere).
 */
async function existingRegular(path: string): Promise<Stats | undefined> {
  let info: Stats;
  try {
    info = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (!info.isFile()) {
    const what = info.isSymbolicLink() ? 'a symbolic link' : info.isDirectory() ? 'a directory' : info.isFIFO() ? 'a FIFO' : info.isSocket() ? 'a socket' : 'a device';
    throw new UserError(`${path} is ${what}, where plexctl keeps a regular file; nothing was written`, `remove it (rm ${path}) if it is not yours to keep, then run the command again`);
  }
  // Its mode and owner would be another name's: refused, like a symlink.
  if (info.nlink > 1) throw hardLinked(path, info.nlink);
  return info;
}

export async function writeFileAtomic(path: string, content: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  const existing = await existingRegular(path);
  const mode = existing && !options.enforce ? existing.mode & 0o7777 : (options.mode ?? 0o644);
  const temp = join(dir, `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}${tempSuffix}`);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(content);
    await handle.chmod(mode); // open() applied the umask
    const owner = existing && !(options.enforce && options.owner) ? { uid: existing.uid, gid: existing.gid } : options.owner;
    if (owner && process.getuid?.() === 0) await handle.chown(owner.uid, owner.gid);
    if (options.freshMtime && existing) await bumpMtime(handle, existing);
    await handle.sync();
    await handle.close();
    await rename(temp, path);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  if (options.syncDir !== false) await syncDir(dir);
}

/**
 * An mtime that differs from `previous`'s: now, or a whole second later than the old mtime when
 * the clock has not moved on that far, so even a filesystem with one-second timestamps sees a change.
 */
export function freshMtime(previous: Stats, now = Date.now()): number {
  return now >= previous.mtimeMs + 1000 ? now : previous.mtimeMs + 1000;
}

async function bumpMtime(handle: FileHandle, previous: Stats): Promise<void> {
  await handle.utimes(new Date(), new Date(freshMtime(previous)));
}

/** Make a rename or unlink durable: fsync the directory that holds the entry. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Fix a regular file's mode and owner in place, through a descriptor opened without following links. */
export async function setAccess(path: string, mode: number, owner: { uid: number; gid: number } | undefined): Promise<void> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new UserError(`${path} is not a regular file; nothing was changed`, `remove it (rm ${path}), then run the command again`);
    // chmod and chown in place would change the other name's file too.
    if (info.nlink > 1) throw hardLinked(path, info.nlink);
    if (owner && process.getuid?.() === 0) await handle.chown(owner.uid, owner.gid);
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function removeFile(path: string, options: { syncDir?: boolean } = {}): Promise<void> {
  await unlink(path);
  if (options.syncDir !== false) await syncDir(dirname(path));
}

/** Temp files left by a plexctl process that was killed before its rename. */
export async function removeStaleTempFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = tempPattern.exec(name);
    if (!match || isAlive(Number(match[1]))) continue;
    await unlink(join(dir, name)).catch(() => undefined);
    removed.push(join(dir, name));
  }
  return removed;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
