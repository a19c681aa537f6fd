/**
 * Reading files as root without being steered by anyone less trusted: plexctl runs as root on
 * paths other people can edit (an inventory, a password file), so a symlink, a FIFO or a
 * directory another user can write must never make it read the wrong thing, hang, or trust a
 * file someone else could have replaced.
 *
 * readRegularFile decides from the open descriptor (fstat), never from a second lookup by name.
 * checkTrustedDirectory/checkTrustedFile check by name, which is sound only because of what they
 * check: when every directory on the way is writable by trusted users alone, no one else can
 * change what the name resolves to between the check and the use.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open, readlink } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { groupByGid, userByUid } from './accounts.js';

/** A path plexctl refuses to read or trust; `fix` says what to do. */
export class UnsafePathError extends UserError {
  readonly path: string;
  readonly reason: string;
  readonly fix: string;
  constructor(path: string, reason: string, fix: string) {
    super(`refusing ${path}: it ${reason}`, fix);
    this.name = 'UnsafePathError';
    this.path = path;
    this.reason = reason;
    this.fix = fix;
  }
}

export interface RegularFile {
  content: Buffer;
  /** Permission bits (mode & 0o7777), owner, times and identity: all from the open descriptor. */
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  /** fstat's size; `content` can be longer for files whose size the kernel does not know (/proc). */
  size: number;
  dev: number;
  ino: number;
}

function describe(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isSymbolicLink()) return 'is a symbolic link';
  if (stats.isDirectory()) return 'is a directory';
  if (stats.isFIFO()) return 'is a FIFO (named pipe)';
  if (stats.isSocket()) return 'is a socket';
  if (stats.isCharacterDevice()) return 'is a character device';
  if (stats.isBlockDevice()) return 'is a block device';
  return 'is not a regular file';
}

function notRegular(path: string, reason: string): UnsafePathError {
  const fix = reason === 'is a symbolic link' ? `name the file itself: ${shellQuote(path)} points elsewhere` : `put a regular file at ${shellQuote(path)}`;
  return new UnsafePathError(path, reason, fix);
}

const openFlags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

/**
 * A regular file's content and facts, or undefined when there is none. A symlink (as the last
 * component: the directories are checkTrustedDirectory's job), FIFO, socket, device or directory
 * is refused. O_NONBLOCK makes opening a FIFO return at once instead of waiting for a writer.
 */
export async function readRegularFile(path: string, options: { maxBytes: number; singleLink?: boolean }): Promise<RegularFile | undefined> {
  if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes < 0) throw new RangeError(`maxBytes must be a whole number of bytes, not ${options.maxBytes}`);
  // Refused by name first only to avoid opening a device (opening one can have effects: a tape
  // rewinds); the descriptor's fstat below is what decides.
  let named: Stats;
  try {
    named = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const early = describe(named);
  if (early) throw notRegular(path, early);

  let handle;
  try {
    handle = await open(path, openFlags);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // Replaced since the lstat: ELOOP is O_NOFOLLOW meeting a symlink, ENXIO a socket.
    if (code === 'ELOOP') throw notRegular(path, 'is a symbolic link');
    if (code === 'ENXIO') throw notRegular(path, 'is a socket');
    throw error;
  }
  try {
    const stats = await handle.stat();
    const reason = describe(stats);
    if (reason) throw notRegular(path, reason);
    if (options.singleLink && stats.nlink > 1) throw hardLinked(path, stats.nlink);
    const limit = options.maxBytes;
    if (stats.size > limit) throw tooLarge(path, `is ${stats.size} bytes, more than the ${limit} allowed`, limit);
    // One byte more than allowed, so a file that grew since the fstat is caught, not cut short.
    const buffer = Buffer.allocUnsafe(Math.min(limit, Math.max(stats.size, 4096)) + 1);
    let length = 0;
    let chunk = buffer;
    for (;;) {
      if (length === chunk.length) {
        if (length > limit) throw tooLarge(path, `grew past the ${limit} bytes allowed while being read`, limit);
        const bigger = Buffer.allocUnsafe(Math.min(limit + 1, chunk.length * 2));
        chunk.copy(bigger, 0, 0, length);
        chunk = bigger;
      }
      const { bytesRead } = await handle.read(chunk, length, chunk.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > limit) throw tooLarge(path, `grew past the ${limit} bytes allowed while being read`, limit);
    return {
      content: Buffer.from(chunk.subarray(0, length)),
      mode: stats.mode & 0o7777,
      uid: stats.uid,
      gid: stats.gid,
      mtimeMs: stats.mtimeMs,
      size: stats.size,
      dev: stats.dev,
      ino: stats.ino,
    };
  } finally {
    await handle.close();
  }
}

/**
 * A managed file with another name: whoever made the link (when its directory was writable by
 * them, say) shares its inode, so a mode or owner fixed in place, or content read from it, is
 * also that other file's.
 */
export function hardLinked(path: string, nlink: number): UnsafePathError {
  return new UnsafePathError(
    path,
    `has ${nlink} hard links: another name shares this file, so plexctl would read or change that file too`,
    `find the other name (find / -xdev -samefile ${shellQuote(path)}); then give it a file of its own: cp -p ${shellQuote(path)} ${shellQuote(`${path}.new`)} && mv ${shellQuote(`${path}.new`)} ${shellQuote(path)}`,
  );
}

function tooLarge(path: string, reason: string, limit: number): UnsafePathError {
  return new UnsafePathError(path, reason, `check what ${shellQuote(path)} holds; plexctl reads at most ${limit} bytes from it`);
}

export interface TrustProblem {
  path: string;
  /** e.g. "is writable by group 1000 (staff)", "is owned by uid 1000 (deploy)". */
  reason: string;
  /** The command that removes the problem, e.g. `chmod go-w /srv/plex`. */
  fix: string;
}

export interface TrustOptions {
  /** Owners trusted besides root (uid 0, always trusted). */
  allowedUids?: readonly number[];
}

/** In the list of names to resolve: an absolute symlink target starts again at `/` (never a name: names are not empty). */
const restartAtRoot = '';

/** The kernel gives up after 40 symlinks in one lookup; so does the walk. */
const maxLinks = 40;

const groupOrOtherWrite = 0o022;
const stickyBit = 0o1000; // S_ISVTX, which node:fs does not export

/**
 * Problems that would let someone other than root or `allowedUids` change what `dir` holds, or
 * which directory the name leads to; empty when there are none. Every directory from `/` down is
 * checked as the kernel resolves the name (symlinks followed where they stand, `..` after them),
 * each must be owned by a trusted uid and writable by no one else. A writable directory with
 * the sticky bit (/tmp) is accepted on the way, since only an entry's owner can replace it there,
 * but not as `dir` itself. A missing directory is checked up to its nearest existing ancestor
 * (root will create the rest).
 *
 * Write permission is read from the mode bits: with a POSIX ACL, the group bits are the ACL's
 * mask, which bounds every named user and group entry, so they cannot hide a writer.
 */
export async function checkTrustedDirectory(dir: string, options: TrustOptions = {}): Promise<TrustProblem[]> {
  const walk = new Walk(trustedUids(options));
  await walk.directory(dir);
  return walk.problems;
}

/**
 * Problems with a file plexctl will read or trust: its directory as checkTrustedDirectory, then
 * the file itself (owner trusted, writable by no one else). A symlink is followed when it is
 * owned by a trusted uid; its target is then checked the same way. A missing file is not a problem.
 */
export async function checkTrustedFile(path: string, options: TrustOptions = {}): Promise<TrustProblem[]> {
  const walk = new Walk(trustedUids(options));
  await walk.file(path);
  return walk.problems;
}

function trustedUids(options: TrustOptions): ReadonlySet<number> {
  return new Set([0, ...(options.allowedUids ?? [])]);
}

/** One resolution, collecting problems; `links` counts symlinks followed across the whole walk. */
class Walk {
  readonly problems: TrustProblem[] = [];
  private links = 0;
  constructor(private readonly trusted: ReadonlySet<number>) {}

  /** Once each: a symlinked file's target can share directories with the link. */
  private report(problem: TrustProblem): void {
    if (!this.problems.some((p) => p.path === problem.path && p.reason === problem.reason)) this.problems.push(problem);
  }

  /** Walk `path` to a directory: its resolved path and stats, or undefined when it is missing or cannot be reached. */
  async directory(path: string): Promise<{ path: string; stats: Stats } | undefined> {
    const pending = components(path);
    const rootStats = await lstat('/');
    await this.checkDirectory('/', rootStats);
    const stack: { path: string; stats: Stats }[] = [{ path: '/', stats: rootStats }];
    const top = () => stack[stack.length - 1] as { path: string; stats: Stats };

    for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
      if (name === restartAtRoot) {
        stack.length = 1;
        continue;
      }
      if (name === '..') {
        if (stack.length > 1) stack.pop();
        continue;
      }
      const parent = top();
      const here = parent.path === '/' ? `/${name}` : `${parent.path}/${name}`;
      const stats = await lstatOrUndefined(here);
      if (!stats) {
        if (isStickyWritable(parent.stats)) {
          this.report({
            path: here,
            reason: `does not exist, and ${parent.path} is writable by others: anyone could create it before root does`,
            fix: `install -d -m 0755 -o root -g root ${shellQuote(here)}`,
          });
        }
        return undefined;
      }
      if (stats.isSymbolicLink()) {
        const target = await this.followLink(here, stats);
        if (target === undefined) return undefined;
        pending.unshift(...(target.startsWith('/') ? [restartAtRoot] : []), ...components(target, false));
        continue;
      }
      if (!stats.isDirectory()) {
        this.report({ path: here, reason: `${describe(stats) ?? 'is a file'}, not a directory`, fix: `choose another path, or move ${shellQuote(here)} away` });
        return undefined;
      }
      await this.checkDirectory(here, stats);
      stack.push({ path: here, stats });
    }
    const final = top();
    // The sticky bit protects entries from each other, not the directory's own content: a
    // directory plexctl keeps files in must be writable by trusted users only.
    if (isStickyWritable(final.stats)) {
      this.report({
        path: final.path,
        reason: `${await this.writers(final.stats)} (mode ${octal(final.stats.mode)}; the sticky bit protects only the entries below it)`,
        fix: `install -d -m 0755 -o root -g root ${shellQuote(final.path === '/' ? '/plexctl' : `${final.path}/plexctl`)} and use that directory`,
      });
    }
    return final;
  }

  async file(path: string): Promise<void> {
    const slash = path.lastIndexOf('/');
    const dirPart = slash < 0 ? '.' : slash === 0 ? '/' : path.slice(0, slash);
    const name = path.slice(slash + 1);
    const dir = await this.directory(dirPart);
    if (!dir) return;
    if (name === '' || name === '.' || name === '..') {
      this.report({ path, reason: 'names a directory, not a file', fix: 'name the file itself' });
      return;
    }
    const here = dir.path === '/' ? `/${name}` : `${dir.path}/${name}`;
    const stats = await lstatOrUndefined(here);
    if (!stats) return;
    if (stats.isSymbolicLink()) {
      const target = await this.followLink(here, stats);
      if (target !== undefined) await this.file(target.startsWith('/') ? target : `${dir.path}/${target}`);
      return;
    }
    if (!stats.isFile()) {
      this.report({ path: here, reason: `${describe(stats)}, not a regular file`, fix: `put a regular file at ${shellQuote(here)}` });
      return;
    }
    await this.checkOwnerAndMode(here, stats);
  }

  /** A symlink's target when it may be followed; undefined (and a problem) when not. */
  private async followLink(path: string, stats: Stats): Promise<string | undefined> {
    if (++this.links > maxLinks) {
      this.report({ path, reason: `leads through more than ${maxLinks} symbolic links`, fix: `check the links from ${shellQuote(path)} for a loop` });
      return undefined;
    }
    if (!this.trusted.has(stats.uid)) {
      // In a directory with the sticky bit, a link's owner can replace it; elsewhere it marks who put it there.
      this.report({ path, reason: `is a symbolic link ${await this.owner(stats.uid)}`, fix: `chown -h root:root ${shellQuote(path)}` });
      return undefined;
    }
    return await readlink(path);
  }

  private async checkDirectory(path: string, stats: Stats): Promise<void> {
    if (!this.trusted.has(stats.uid)) this.report(ownerProblem(path, `is ${await this.owner(stats.uid)}`));
    if (stats.mode & groupOrOtherWrite && !(stats.mode & stickyBit)) {
      this.report({ path, reason: `${await this.writers(stats)} (mode ${octal(stats.mode)})`, fix: `chmod go-w ${shellQuote(path)}` });
    }
  }

  private async checkOwnerAndMode(path: string, stats: Stats): Promise<void> {
    if (!this.trusted.has(stats.uid)) this.report(ownerProblem(path, `is ${await this.owner(stats.uid)}`));
    if (stats.mode & groupOrOtherWrite) {
      this.report({ path, reason: `${await this.writers(stats)} (mode ${octal(stats.mode)})`, fix: `chmod go-w ${shellQuote(path)}` });
    }
  }

  private async owner(uid: number): Promise<string> {
    const user = await userByUid(uid).catch(() => undefined);
    return `owned by uid ${uid}${user ? ` (${user.name})` : ''}`;
  }

  private async writers(stats: Stats): Promise<string> {
    const who: string[] = [];
    if (stats.mode & 0o020) {
      const group = await groupByGid(stats.gid).catch(() => undefined);
      who.push(`group ${stats.gid}${group ? ` (${group.name})` : ''}`);
    }
    if (stats.mode & 0o002) who.push('all users');
    return `is writable by ${who.join(' and by ')}`;
  }
}

function ownerProblem(path: string, reason: string): TrustProblem {
  return { path, reason, fix: `chown root:root ${shellQuote(path)}` };
}

function isStickyWritable(stats: Stats): boolean {
  return (stats.mode & groupOrOtherWrite) !== 0 && (stats.mode & stickyBit) !== 0;
}

/**
 * The names to resolve, in order. A relative path starts from the working directory, which
 * getcwd reports already resolved. `.` and empty components are dropped; `..` is kept, to be
 * applied after any symlink before it, as the kernel does.
 */
function components(path: string, absolute = true): string[] {
  const full = absolute && !path.startsWith('/') ? `${process.cwd()}/${path}` : path;
  return full.split('/').filter((c) => c !== '' && c !== '.');
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw error;
  }
}

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

/** A path inside a shell command: as is when plain, else single-quoted. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
