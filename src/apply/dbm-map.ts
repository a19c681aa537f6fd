/**
 * The DBM form of procmap.txt, for large user counts (indexed, where a txt map is scanned line by
 * line for each new key after a change). httxt2dbm writes into an existing file without truncating it, so the map is
 * always built into a new file and renamed into place.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { exec } from '../exec.js';
import { freshMtime, statOrUndefined, syncDir } from './atomic-write.js';

export const httxt2dbm = '/usr/sbin/httxt2dbm';

export async function buildDbm(dbmPath: string, source: string, mode: number, owner?: { uid: number; gid: number }): Promise<void> {
  const dir = dirname(dbmPath);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const text = join(dir, `.procmap-src.${tag}.plexctl-tmp`);
  const built = join(dir, `.procmap-dbm.${tag}.plexctl-tmp`);
  const previous = await statOrUndefined(dbmPath);
  try {
    // O_EXCL: never write through something already at the temp name.
    await writeFile(text, source, { mode: 0o600, flag: 'wx' });
    const result = await exec(httxt2dbm, ['-i', text, '-o', built], { reject: false, all: true, extendEnv: false, env: { PATH: '/usr/sbin:/usr/bin:/bin' } });
    if (result.exitCode !== 0) throw new Error(`${httxt2dbm} failed: ${result.all || result.message}`);
    // Mode, owner and mtime through a descriptor opened without following links: whatever is at the
    // name must be the regular file httxt2dbm just made.
    const handle = await open(built, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      if (!(await handle.stat()).isFile()) throw new Error(`${built} is not the regular file httxt2dbm made`);
      if (owner && process.getuid?.() === 0) await handle.chown(owner.uid, owner.gid);
      await handle.chmod(mode);
      // Apache re-reads a map only when its mtime changes.
      if (previous) await handle.utimes(new Date(), new Date(freshMtime(previous)));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(built, dbmPath);
    await syncDir(dir);
  } finally {
    await unlink(text).catch(() => undefined);
    await unlink(built).catch(() => undefined);
  }
}
