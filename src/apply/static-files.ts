/**
 * `plexctl collectstatic`: the site's static files into site.static.dir, without root ever running
 * the project's code or reading what an instance wrote through a path it could swap. Django's
 * collectstatic runs as the first group's account into a directory of its own; that account
 * (setpriv) streams it out as a tar archive, which root unpacks into a new directory of its own
 * (no owners, no modes, no symlinks kept), then puts in place of the old one.
 */
import { execa } from 'execa';
import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { open, lstat, mkdir, mkdtemp, readdir, rename, rm, chmod } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import type { Group, Inventory } from '../inventory/types.js';
import { lookupUser } from '../system/accounts.js';
import { runManagement } from './management.js';
import { syncDir } from './atomic-write.js';

export interface Collected {
  dir: string;
  files: number;
  group: string;
}

/** Every entry made root's, 0755 directories and 0644 files; links and special files removed. Counts files. */
async function tidy(dir: string): Promise<number> {
  let files = 0;
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const info = await lstat(path);
    if (info.isDirectory()) {
      await chmod(path, 0o755);
      files += await tidy(path);
    } else if (info.isFile()) {
      await chmod(path, 0o644);
      files++;
    } else {
      await rm(path, { force: true });
    }
  }
  return files;
}

export async function collectStatic(inventory: Inventory, group: Group, output: (line: string) => void): Promise<Collected> {
  const target = inventory.site.static;
  if (!target) throw new UserError('the inventory has no site.static', 'add site.static: {url: /static/, dir: static} (see the README)');
  const parent = dirname(target.dir);
  await mkdir(parent, { recursive: true, mode: 0o755 });
  const asRoot = process.getuid?.() === 0;
  // Where the instance writes: made by root inside the group's own data directory, so its
  // account (and only it) can write there.
  const work = join(group.dataDir, `.collectstatic-${randomBytes(4).toString('hex')}`);
  await mkdir(work, { mode: 0o700 });
  try {
    if (asRoot && group.runAs) {
      const entry = await lookupUser(group.runAs.user);
      if (!entry) throw new UserError(`the account ${group.runAs.user} does not exist`, 'run `plexctl reconcile` as root first');
      // Through a descriptor opened without following links: the name is in the instance's directory.
      const handle = await open(work, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      try {
        await handle.chown(entry.uid, entry.gid);
      } finally {
        await handle.close();
      }
    }
    const run = await runManagement(inventory, group, ['collectstatic', '--noinput'], { override: { STATIC_ROOT: work } }, 'pipe', output);
    if (run.exitCode !== 0) throw new UserError(`collectstatic exited ${run.exitCode} in group ${group.name}`, 'see its output above; try `plexctl manage GROUP -- collectstatic --noinput`');
    const fresh = await mkdtemp(join(parent, `.${basename(target.dir)}.new-`));
    try {
      const tarAs = asRoot && group.runAs ? ['/usr/bin/setpriv', '--reuid', group.runAs.user, '--regid', group.runAs.group, '--init-groups', '--no-new-privs', '--'] : [];
      const pack = execa(tarAs[0] ?? 'tar', [...tarAs.slice(1), ...(tarAs.length > 0 ? ['tar'] : []), '-C', work, '-cf', '-', '.'], { env: { PATH: '/usr/bin:/bin' }, extendEnv: false, buffer: false, stderr: 'pipe', reject: false });
      const unpack = execa('tar', ['-C', fresh, '-xf', '-', '--no-same-owner', '--no-same-permissions', '--no-overwrite-dir'], { env: { PATH: '/usr/bin:/bin' }, extendEnv: false, stdin: 'pipe', reject: false });
      pack.stdout!.pipe(unpack.stdin!);
      const [packed, unpacked] = await Promise.all([pack, unpack]);
      if (packed.exitCode !== 0 || unpacked.exitCode !== 0) throw new UserError(`copying the collected files failed: ${String(packed.stderr ?? '')}${String(unpacked.stderr ?? '')}`.trim());
      await chmod(fresh, 0o755);
      const files = await tidy(fresh);
      // The old directory aside, the new one in its place, the old one removed.
      const old = `${join(parent, `.${basename(target.dir)}.old-`)}${randomBytes(4).toString('hex')}`;
      const hadOld = await lstat(target.dir).then((s) => s.isDirectory(), () => false);
      if (hadOld) await rename(target.dir, old);
      await rename(fresh, target.dir);
      await syncDir(parent);
      if (hadOld) await rm(old, { recursive: true, force: true });
      return { dir: target.dir, files, group: group.name };
    } catch (error) {
      await rm(fresh, { recursive: true, force: true });
      throw error;
    }
  } finally {
    // Removed as the account that owns it (root walking a tree the instance can change could be
    // steered elsewhere).
    const as = asRoot && group.runAs ? ['/usr/bin/setpriv', '--reuid', group.runAs.user, '--regid', group.runAs.group, '--init-groups', '--no-new-privs', '--'] : [];
    await execa(as[0] ?? 'rm', [...as.slice(1), ...(as.length > 0 ? ['rm'] : []), '-rf', '--', work], { env: { PATH: '/usr/bin:/bin' }, extendEnv: false, reject: false });
  }
}
