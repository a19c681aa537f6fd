/**
 * An exclusive lock between plexctl processes that change files: a lock file (for example
 * `plex.yaml.lock` beside the inventory) created with O_EXCL and holding the owner's pid.
 *
 * A lock whose owner is dead is stale and is taken over. POSIX has no "delete this file only if it
 * is still that inode", so a waiter that finds a stale lock first takes a second, short-lived
 * claim `<lock>.break` (also O_EXCL), checks under it that the lock file is still the stale one
 * it saw, deletes it, drops the claim, and then competes for a fresh O_EXCL create like everyone
 * else. Without the claim, two waiters that both saw the stale lock could race: the first deletes
 * it and creates its own lock, the second then deletes that live lock, and both would win.
 * A claim left by a breaker that died is itself stale; it is moved aside by rename and deleted
 * only if it is the same inode that was seen, else put back.
 *
 * The lock file sits beside the inventory, where someone else may have put something first, so
 * it is never trusted by its name: it is read without following links and without blocking
 * (readRegularFile: O_NOFOLLOW|O_NONBLOCK, fstat of the descriptor), at most `maxLockBytes`. A
 * symlink, FIFO, socket, device or directory there, or a file too large to be a lock, is refused
 * at once with the `rm` that removes it: never waited on, never read without bound. A lock is
 * held only while its pid is alive and still the same process: the holder records its start time
 * (`startTicks`, from /proc) beside its pid, and a lock whose pid now has another start time (a
 * reused pid, or a forged lock naming pid 1) or none recorded is stale and is taken over.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../errors.js';
import { processIdentity } from '../system/processes.js';
import { readRegularFile, shellQuote, UnsafePathError } from '../system/safe-fs.js';

export interface Lock {
  readonly path: string;
  /** Delete the lock file, if it is still ours. Safe to call twice. */
  release(): Promise<void>;
}

export interface LockOptions {
  /** Give up after waiting this long for another holder (0: try once). */
  timeoutMs: number;
  /** How often to look again while another process holds the lock (default 100). */
  pollMs?: number;
}

/** What a lock file says about its holder. */
export interface LockHolder {
  pid: number;
  /** The holder's start time in clock ticks since boot (/proc/PID/stat): with the pid, one process. */
  startTicks?: number;
  started?: string;
  command?: string;
}

/**
 * A lock file that is empty or unreadable is taken to be stale once it is this old: its owner
 * was killed between creating it and writing its pid (which takes microseconds).
 */
export const unreadableStaleMs = 5000;

/** A lock plexctl writes is well under this; anything larger is not one of its locks. */
export const maxLockBytes = 4096;

/** The command recorded in a lock, cut so that the lock stays far below maxLockBytes. */
const maxCommandChars = 1000;

export class LockTimeout extends UserError {
  readonly path: string;
  readonly holder: LockHolder | undefined;
  constructor(path: string, holder: LockHolder | undefined) {
    const who = holder ? `pid ${holder.pid}${holder.command ? `: ${holder.command}` : ''}` : 'pid unknown';
    super(
      `another plexctl (${who}) holds the lock ${path}`,
      holder
        ? 'wait for it to finish, or raise --lock-timeout'
        : `wait for it to finish, or raise --lock-timeout; the lock names no holder: if no plexctl is running, remove it: rm ${shellQuote(path)}`,
    );
    this.name = 'LockTimeout';
    this.path = path;
    this.holder = holder;
  }
}

export async function acquireLock(path: string, options: LockOptions): Promise<Lock> {
  const pollMs = Math.max(1, options.pollMs ?? 100);
  const deadline = Date.now() + Math.max(0, options.timeoutMs);
  const content = await lockContent();
  for (;;) {
    const created = await tryCreate(path, content);
    if (created) return new FileLock(path, created);
    const found = await readLock(path);
    if (found === undefined) continue; // released meanwhile: try again at once
    if ((await isStale(found)) && (await removeStale(path, found.stats, content))) continue;
    const now = Date.now();
    if (now >= deadline) throw new LockTimeout(path, found.holder);
    await sleep(Math.min(pollMs, deadline - now));
  }
}

async function lockContent(): Promise<string> {
  const self = await processIdentity(process.pid);
  if (!self) throw new Error(`cannot read this process's start time from /proc/${process.pid}/stat`);
  return `${JSON.stringify({
    pid: process.pid,
    startTicks: self.startTicks,
    started: new Date().toISOString(),
    command: process.argv.slice(2).join(' ').slice(0, maxCommandChars),
  })}\n`;
}

/** What identifies one file (of one lock): inode and device. */
interface FileId {
  dev: number;
  ino: number;
  mtimeMs: number;
}

class FileLock implements Lock {
  private released = false;
  constructor(
    readonly path: string,
    private readonly ours: FileId,
  ) {}

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const found = await readLock(this.path);
    // Someone else's lock (ours was taken over, e.g. after a pid check gone wrong) is left alone.
    if (!found || !sameFile(found.stats, this.ours) || found.holder?.pid !== process.pid) return;
    await unlink(this.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}

const createFlags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_NOCTTY;

/** Create the lock file with O_EXCL (which never follows a link); its identity, or undefined when it already exists. */
async function tryCreate(path: string, content: string, durable = true): Promise<FileId | undefined> {
  let handle;
  try {
    handle = await open(path, createFlags, 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw lockError(path, error);
  }
  try {
    await handle.writeFile(content);
    if (durable) await handle.sync();
    const stats = await handle.stat();
    await handle.close();
    return stats;
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw lockError(path, error);
  }
}

interface FoundLock {
  stats: FileId;
  holder: LockHolder | undefined;
}

/**
 * The lock file's identity and holder (undefined holder: empty or unparsable), or undefined if
 * there is none. Anything but a small regular file is refused (see the top of this file).
 */
async function readLock(path: string): Promise<FoundLock | undefined> {
  let file;
  try {
    file = await readRegularFile(path, { maxBytes: maxLockBytes });
  } catch (error) {
    if (error instanceof UnsafePathError) {
      throw new UnsafePathError(path, error.reason, `plexctl's lock is a small regular file it creates itself; remove this one: rm ${shellQuote(path)}`);
    }
    throw lockError(path, error);
  }
  if (!file) return undefined;
  return { stats: file, holder: parseHolder(file.content.toString('utf8')) };
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const data = JSON.parse(text) as unknown;
    if (data === null || typeof data !== 'object') return undefined;
    const { pid, startTicks, started, command } = data as Record<string, unknown>;
    if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
    return {
      pid,
      ...(typeof startTicks === 'number' && Number.isSafeInteger(startTicks) && startTicks >= 0 ? { startTicks } : {}),
      ...(typeof started === 'string' ? { started } : {}),
      ...(typeof command === 'string' ? { command } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Stale: the holder's pid is gone, or is now another process than the one that wrote the lock
 * (its start time differs, or the lock records none: a forged lock naming a live pid, or one
 * from a plexctl older than start times, must not block for ever). A lock naming no holder is
 * stale once old (its writer died between creating and writing it).
 */
async function isStale(found: FoundLock): Promise<boolean> {
  const { holder } = found;
  if (!holder) return Date.now() - found.stats.mtimeMs > unreadableStaleMs;
  const now = await processIdentity(holder.pid);
  return now === undefined || holder.startTicks === undefined || now.startTicks !== holder.startTicks;
}

function sameFile(a: FileId, b: FileId): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}

/**
 * Delete the stale lock file `seen` and nothing else. True when it is gone (by our hand or
 * another's); false when another waiter is taking it over right now (wait, then look again).
 */
async function removeStale(path: string, seen: FileId, content: string): Promise<boolean> {
  const claimPath = `${path}.break`;
  const claim = await tryCreate(claimPath, content, false);
  if (!claim) {
    const other = await readLock(claimPath);
    if (other && (await isStale(other))) await removeAsideIfSame(claimPath, other.stats);
    return false;
  }
  try {
    // Under the claim no other waiter deletes the lock file, its dead owner will not, and no one
    // can create one while it exists: if it is still the stale file, unlinking it removes just that.
    const current = await readLock(path);
    if (current && sameFile(current.stats, seen) && (await isStale(current))) {
      await unlink(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw lockError(path, error);
      });
    }
    return true;
  } finally {
    await new FileLock(claimPath, claim).release();
  }
}

/** Rename the file aside, delete it if it is the inode `seen`, else link it back. */
async function removeAsideIfSame(path: string, seen: FileId): Promise<void> {
  const aside = join(dirname(path), `.${basename(path)}.stale-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else removed it
    throw lockError(path, error);
  }
  const moved = await lstat(aside);
  if (!sameFile(moved, seen)) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

function lockError(path: string, error: unknown): UserError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new UserError(
      `cannot create or read the lock file ${path}: ${(error as Error).message}`,
      `run plexctl as a user that can write beside the inventory; if no plexctl is running, remove the lock: rm ${shellQuote(path)}`,
    );
  }
  const hint = `if no plexctl is running, remove it: rm ${shellQuote(path)}`;
  if (error instanceof Error) return new UserError(`cannot use the lock file ${path}: ${error.message}`, hint);
  return new UserError(`cannot use the lock file ${path}: ${String(error)}`, hint);
}
