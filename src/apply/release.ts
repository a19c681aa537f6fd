/**
 * Release a group that lost its last user, so that the next tenant gets an instance holding
 * nothing of the last one's. The order matters, and access is already gone (the map and the
 * password file were written first):
 *   1. its data directory is moved aside, into `<data_dir>/.released/` (root's, 0700), where no
 *      instance can reach it; a new, empty one is made;
 *   2. every process of its account is ended (the daemons and anything they left behind), only
 *      for an account the inventory dedicates to this group alone; Apache starts fresh daemons;
 *      a shared account (`isolation: shared`, or not root) gets a plain restart of the daemons;
 *   3. it waits until the group's new daemons serve.
 * `site.on_release: delete` removes the archive at the end; `keep` keeps the data (and says so).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import type { Event } from '../model/events.js';
import { observeInstances } from '../observe/instances.js';
import { planInstances } from '../plan/instance-plan.js';
import type { WebServer } from '../server/web-server.js';
import { lookupUser } from '../system/accounts.js';
import { endAllOfUid } from '../system/kill-uid.js';
import { startTimeMs } from '../system/processes.js';
import { apacheUser } from '../apache/system-user.js';
import { applyInstanceChanges } from './instances.js';
import { accountComment } from '../inventory/run-as.js';
import { clearInUse } from './in-use.js';
import { clearInitialised } from './management.js';
import { syncDir } from './atomic-write.js';

export const releasedDirName = '.released';

/** `django1-20261201T230501Z`: sorts by time, and names the group. */
export const archiveName = (group: string, at: Date) =>
  `${group}-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;

/** The account of a group that no other group shares, as root: only then may all its processes be ended. */
async function dedicatedAccount(inventory: Inventory, group: string): Promise<{ uid: number; gid: number } | undefined> {
  const runAs = inventory.groups.find((g) => g.name === group)?.runAs;
  if (process.getuid?.() !== 0 || inventory.isolation !== 'per-group' || !runAs || runAs.user === apacheUser) return undefined;
  const entry = await lookupUser(runAs.user);
  // Only an account plexctl made for exactly this group of this inventory.
  if (!entry || entry.uid === 0 || entry.gecos !== accountComment(inventory.file, group)) return undefined;
  return { uid: entry.uid, gid: entry.gid };
}

export async function releaseGroup(inventory: Inventory, groupName: string, options: { server: WebServer; timeoutMs: number }): Promise<Event[]> {
  const group = inventory.groups.find((g) => g.name === groupName);
  if (!group) throw new UserError(`group "${groupName}" is not in the inventory`);
  const startedAt = Date.now();
  const events: Event[] = [];
  let archive: string | undefined;
  if (inventory.site.onRelease !== 'keep') {
    // The fresh directory needs site.init again: the mark goes first, so a crash after it
    // never leaves a mark claiming a directory that was moved away.
    await clearInitialised(inventory, groupName);
    const released = join(inventory.site.dataDir, releasedDirName);
    await mkdir(released, { recursive: true, mode: 0o700 });
    archive = join(released, archiveName(groupName, new Date(startedAt)));
    try {
      await rename(group.dataDir, archive);
      await syncDir(inventory.site.dataDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      archive = undefined; // nothing to move aside
    }
  }
  const makeFreshDir = async () => {
    events.push(...(await applyInstanceChanges(planInstances(inventory, await observeInstances(inventory)))));
  };
  const observed = await options.server.observe();
  const account = await dedicatedAccount(inventory, groupName);
  let ended = 0;
  if (account) {
    // Every process of the account is stopped (so none can touch the new directory or fork),
    // the new, empty directory is made, then they are killed; Apache then starts fresh daemons.
    const parent = observed.server.running ? observed.server.pid : -1;
    const fresh = (p: { ppid: number; startTicks: number }) => p.ppid === parent && startTimeMs(p.startTicks) >= startedAt - 20;
    const result = await endAllOfUid(account.uid, fresh, makeFreshDir);
    ended = result.ended;
    if (result.survivors.length > 0) {
      throw new UserError(`processes of ${groupName}'s account survived its release: ${result.survivors.join(', ')}`, 'end them (kill -9), then run the command again');
    }
  } else {
    await makeFreshDir();
    if (observed.server.running) {
      const restarted = await options.server.restartGroups([groupName], { timeoutMs: options.timeoutMs });
      const failed = restarted.groups.find((g) => !g.done);
      if (failed) throw new UserError(failed.problem ?? `${groupName} did not restart`, 'see Apache\'s error log, then run the command again');
    }
  }
  if (observed.server.running && account) await options.server.waitForGroups([groupName], startedAt, options.timeoutMs);
  // Deleting walks the archive by name: only once no process of the tenant is left to swap a
  // directory in it for a link (a shared account's processes live on: its archive is kept).
  const deleted = archive !== undefined && inventory.site.onRelease === 'delete' && account !== undefined;
  if (deleted) await rm(archive!, { recursive: true, force: true });
  await clearInUse(inventory, groupName);
  events.push({
    kind: 'released',
    group: groupName,
    data: inventory.site.onRelease === 'keep' ? 'kept' : archive === undefined ? 'none' : deleted ? 'deleted' : 'archived',
    ...(archive !== undefined && !deleted ? { archive } : {}),
    ended,
    sharedAccount: account === undefined,
    serving: observed.server.running,
    ...(observed.server.running ? {} : { notRunning: observed.server.reason }),
  });
  return events;
}
