/**
 * The user lifecycle on a live server, in the recipe's order: for add, the inventory, the group's
 * scripts, a restart, the map, then the password; for remove the reverse, so access is revoked
 * first. Each is a list of steps (steps.ts).
 */
import { readFile } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { generatedPaths } from '../render/files.js';
import { didYouMean } from '../inventory/did-you-mean.js';
import { removeUser, setUserGroup } from '../inventory/edit.js';
import type { Inventory } from '../inventory/types.js';
import { writeFileAtomic } from '../apply/atomic-write.js';
import { applyFileChanges } from '../apply/apply-files.js';
import { planFiles, type FileChange } from '../plan/file-plan.js';
import { readActualFiles } from '../plan/read-actual.js';
import { isMapKind, renderFiles } from '../render/render.js';
import { readHtpasswd, parseHtpasswd, withEntry, writeHtpasswd } from '../apache/htpasswd.js';
import { apacheGid } from '../apache/system-user.js';
import { setPassword } from './passwords.js';
import { restartGroups, type RestartReport } from './restart.js';
import type { Session } from './inventory-session.js';
import { runSteps, type Step, type StepResult } from './steps.js';

export interface LifecycleReport {
  steps: StepResult[];
  restart?: RestartReport;
}

export interface LifecycleOptions {
  restartTimeoutMs: number;
}

async function planFor(inventory: Inventory): Promise<{ map: FileChange[]; other: FileChange[] }> {
  const desired = renderFiles(inventory);
  const changes = planFiles(desired, await readActualFiles(desired, inventory.apache.wsgiDir));
  return { map: changes.filter((c) => isMapKind(c.kind)), other: changes.filter((c) => !isMapKind(c.kind)) };
}

const usersOf = (inventory: Inventory, group: string) => inventory.users.filter((u) => u.group === group);

function requireGroup(inventory: Inventory, group: string): void {
  const names = inventory.groups.map((g) => g.name);
  if (!names.includes(group)) {
    throw new UserError(`group "${group}" is not in the inventory${didYouMean(group, names)}`, `the groups are: ${names.join(', ')}`);
  }
}

function requireUser(inventory: Inventory, user: string): string {
  const mapping = inventory.users.find((u) => u.user === user);
  if (!mapping) {
    throw new UserError(`user "${user}" is not in the inventory${didYouMean(user, inventory.users.map((u) => u.user))}`, 'see `plexctl user list`');
  }
  return mapping.group;
}

function writeFilesStep(name: string, changes: FileChange[]): Step {
  return {
    name,
    run: async () => {
      if (changes.length === 0) return false;
      await applyFileChanges(changes);
      return changes.map((c) => `${c.action} ${c.path}`).join(', ');
    },
  };
}

function restartStep(inventory: Inventory, groups: () => string[], options: LifecycleOptions, report: LifecycleReport): Step {
  return {
    name: 'restart',
    run: async () => {
      const wanted = groups();
      if (wanted.length === 0) return false;
      report.restart = await restartGroups(inventory, wanted, { timeoutMs: options.restartTimeoutMs });
      const { apache } = report.restart;
      if (!apache.running) return `Apache is not running (${apache.reason}): no process was signalled`;
      const failed = report.restart.groups.filter((g) => !g.done);
      if (failed.length > 0) throw new UserError(failed.map((g) => g.problem).join('; '), 'raise --timeout, or see Apache\'s error log');
      return report.restart.groups.map((g) => `${g.group}: ${g.oldPids.join(',') || '-'} -> ${g.newPids.join(',')}`).join('; ');
    },
  };
}

export async function addUser(
  session: Session,
  request: { user: string; group?: string; password?: string },
  options: LifecycleOptions,
): Promise<LifecycleReport> {
  const { inventory } = session;
  const existing = inventory.users.find((u) => u.user === request.user);
  if (existing) return resumeAdd(session, existing.group, request, options);
  let group = request.group;
  if (group !== undefined) requireGroup(inventory, group);
  group ??= inventory.groups.find((g) => usersOf(inventory, g.name).length === 0)?.name;
  if (group === undefined) {
    throw new UserError('every group already has a user', 'add a group to the inventory\'s pool (then `plexctl reconcile`), or name one with --group');
  }
  const target = group;
  const text = setUserGroup(session.text, request.user, target);
  const next = session.validateEdit(text, `user "${request.user}"`);
  const files = await planFor(next);
  const freshTenant = usersOf(inventory, target).length === 0;
  const report: LifecycleReport = { steps: [] };
  report.steps = await runSteps([
    { name: 'inventory', run: async () => (await writeFileAtomic(session.file, text), `${request.user} -> ${target} in ${session.file}`) },
    writeFilesStep('scripts', files.other),
    restartStep(next, () => (freshTenant || files.other.some((c) => c.group === target) ? [target] : []), options, report),
    writeFilesStep('procmap', files.map),
    {
      name: 'password',
      run: async () => {
        if (request.password === undefined) return false;
        await setPassword(next, request.user, request.password);
        return `set in ${next.apache.userFile}`;
      },
    },
  ]);
  return report;
}

/**
 * `user add` of a user the inventory already has: an earlier add that stopped half-way (its
 * restart timed out, say) is completed; a user that is fully there is an error.
 */
async function resumeAdd(
  session: Session,
  group: string,
  request: { user: string; group?: string; password?: string },
  options: LifecycleOptions,
): Promise<LifecycleReport> {
  const { inventory } = session;
  const refuse = () =>
    new UserError(`user "${request.user}" already exists (group ${group})`, `to change its group: plexctl user move ${request.user} --group G; its password: plexctl user passwd`);
  if (request.group !== undefined && request.group !== group) throw refuse();
  const procmap = await readFile(generatedPaths(inventory).procmap, 'utf8').catch(() => '');
  const mapped = procmap.split('\n').includes(`${request.user} ${group}`);
  const hasPassword = parseHtpasswd(await readHtpasswd(inventory.apache.userFile)).users.has(request.user);
  if (mapped && (request.password === undefined || hasPassword)) throw refuse();
  const files = await planFor(inventory);
  const alone = usersOf(inventory, group).length === 1;
  const report: LifecycleReport = { steps: [] };
  report.steps = await runSteps([
    { name: 'inventory', run: async () => `${request.user} -> ${group} already there (completing an earlier add)` },
    writeFilesStep('scripts', files.other),
    // The earlier add may have stopped before its restart; a fresh tenant still gets a fresh process.
    restartStep(inventory, () => (!mapped && alone ? [group] : []), options, report),
    writeFilesStep('procmap', files.map),
    {
      name: 'password',
      run: async () => {
        if (request.password === undefined || hasPassword) return false;
        await setPassword(inventory, request.user, request.password);
        return `set in ${inventory.apache.userFile}`;
      },
    },
  ]);
  return report;
}

export async function removeUserFromSite(session: Session, user: string, options: LifecycleOptions): Promise<LifecycleReport> {
  const group = requireUser(session.inventory, user);
  const text = removeUser(session.text, user);
  const next = session.validateEdit(text, `removing "${user}"`);
  const files = await planFor(next);
  const lastTenant = usersOf(next, group).length === 0;
  const report: LifecycleReport = { steps: [] };
  report.steps = await runSteps([
    {
      name: 'password',
      run: async () => {
        const userFile = next.apache.userFile;
        const current = await readHtpasswd(userFile);
        if (!parseHtpasswd(current).users.has(user)) return false;
        await writeHtpasswd(userFile, withEntry(current, user, undefined), await apacheGid());
        return `entry removed from ${userFile}`;
      },
    },
    writeFilesStep('procmap', files.map),
    { name: 'inventory', run: async () => (await writeFileAtomic(session.file, text), `${user} removed from ${session.file}`) },
    writeFilesStep('scripts', files.other),
    // A former tenant's process must not live on: restart a group left without users.
    restartStep(next, () => (lastTenant || files.other.some((c) => c.group === group) ? [group] : []), options, report),
  ]);
  return report;
}

export async function moveUser(session: Session, user: string, group: string, options: LifecycleOptions): Promise<LifecycleReport> {
  const from = requireUser(session.inventory, user);
  requireGroup(session.inventory, group);
  if (from === group) throw new UserError(`user "${user}" is already in group ${group}`);
  const text = setUserGroup(session.text, user, group);
  const next = session.validateEdit(text, `moving "${user}"`);
  const files = await planFor(next);
  const report: LifecycleReport = { steps: [] };
  report.steps = await runSteps([
    { name: 'inventory', run: async () => (await writeFileAtomic(session.file, text), `${user}: ${from} -> ${group} in ${session.file}`) },
    writeFilesStep('scripts', files.other),
    restartStep(next, () => [...new Set(files.other.flatMap((c) => (c.group ? [c.group] : [])))], options, report),
    writeFilesStep('procmap', files.map),
  ]);
  return report;
}

export interface UserRow {
  user: string;
  group: string;
  password: boolean;
}

export async function listUsers(inventory: Inventory): Promise<UserRow[]> {
  const passwords = parseHtpasswd(await readHtpasswd(inventory.apache.userFile)).users;
  return inventory.users.map((u) => ({ ...u, password: passwords.has(u.user) }));
}
