/**
 * What each group's instance needs before its daemons start: its account (as root) and its
 * private data directory, `<data_dir>/<group>/`, owned by that account, mode 0700 (data_dir itself
 * root's, 0711: each instance can reach its own directory and list none). Pure.
 */
import type { Inventory } from '../inventory/types.js';
import type { DirFacts, InstancesObservation } from '../observe/instances.js';
import { accountComment } from '../inventory/run-as.js';

export const dataRootMode = 0o711;
export const dataDirMode = 0o700;

export interface InstanceChanges {
  /** Accounts to create (useradd --system), by group. */
  accounts: { group: string; user: string; userGroup: string; comment: string }[];
  /** Directories to create or to give the right mode and owner (`owner`: an account name, or undefined for plexctl's own user). */
  dirs: { path: string; group?: string; action: 'create' | 'fix'; mode: number; owner?: string }[];
  /** Paths where a directory must be but something else is (never followed, never removed by plexctl). */
  blocked: { path: string; what: string }[];
  /** Groups whose account plexctl did not make for them (its comment says whose it is): a note, not a change. */
  foreign: { group: string; user: string; comment: string }[];
  /** site.account_ids: the range the accounts are made in (undefined: the system range). */
  accountIds?: { min: number; max: number };
}

export const isInstancePending = (c: InstanceChanges) => c.accounts.length > 0 || c.dirs.length > 0 || c.blocked.length > 0;

export function planInstances(inventory: Inventory, observed: InstancesObservation): InstanceChanges {
  const changes: InstanceChanges = { accounts: [], dirs: [], blocked: [], foreign: [], ...(inventory.site.accountIds ? { accountIds: inventory.site.accountIds } : {}) };
  const dir = (path: string, facts: DirFacts, mode: number, want: { uid: number; owner?: string } | undefined, group?: string) => {
    if (facts.kind === 'other') return changes.blocked.push({ path, what: 'is not a directory (a link or a file)' });
    const base = { path, mode, ...(group !== undefined ? { group } : {}), ...(want?.owner !== undefined ? { owner: want.owner } : {}) };
    if (facts.kind === 'missing') return changes.dirs.push({ ...base, action: 'create' });
    const ownerWrong = want !== undefined && want.uid >= 0 && facts.uid !== want.uid;
    if (facts.mode !== mode || ownerWrong) changes.dirs.push({ ...base, action: 'fix' });
    return undefined;
  };
  dir(inventory.site.dataDir, observed.dataRoot, dataRootMode, observed.asRoot ? { uid: 0 } : undefined);
  for (const facts of observed.instances) {
    const account = facts.account;
    const comment = accountComment(inventory.file, facts.group);
    if (observed.asRoot && account && account.uid === undefined) changes.accounts.push({ group: facts.group, user: account.user, userGroup: account.group, comment });
    // An account plexctl did not make for this group of this inventory (another inventory's, or
    // someone else's): used, but never treated as this group's alone (a release does not end its processes).
    if (observed.asRoot && account?.gecos !== undefined && account.gecos !== comment && inventory.isolation === 'per-group') {
      changes.foreign.push({ group: facts.group, user: account.user, comment: account.gecos });
    }
    const path = inventory.groups.find((g) => g.name === facts.group)!.dataDir;
    // uid -1: the account does not exist yet, so the owner is known only once it is created.
    const want = observed.asRoot ? (account ? { uid: account.uid ?? -1, owner: account.user } : { uid: 0 }) : undefined;
    dir(path, facts.dataDir, dataDirMode, want, facts.group);
  }
  return changes;
}
