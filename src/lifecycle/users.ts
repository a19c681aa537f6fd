/**
 * The user lifecycle on a live server, in the recipe's order: for add, the inventory, the group's
 * scripts, a restart, the map, then the password; for remove the reverse, so access is revoked
 * first. Each is a list of steps (steps.ts).
 */
import { readFile } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { generatedPaths } from '../render/files.js';
import { removeUser, setUserGroup } from '../inventory/edit.js';
import type { Inventory } from '../inventory/types.js';
import { requireGroup, requireUser, usersOf } from '../inventory/lookup.js';
import { writeFileAtomic } from '../apply/atomic-write.js';
import { applyFileChanges } from '../apply/apply-files.js';
import { ensureInstances } from '../apply/write-generated-files.js';
import { releaseGroup } from '../apply/release.js';
import { groupsInUse, markInUse, readInUse } from '../apply/in-use.js';
import { credentialsOf } from '../credentials/for-inventory.js';
import { fileEvent, type Event } from '../model/events.js';
import type { FileChange } from '../model/files.js';
import { desiredAgainstDisk } from '../observe/actual-files.js';
import { isRoutingKind } from '../render/generated-files.js';
import { webServerOf } from '../server/for-inventory.js';
import type { RestartReport, WebServer } from '../server/web-server.js';
import type { Session } from '../session.js';
import { setPassword } from './passwords.js';
import { restartOnAdd, restartOnMove, restartOnRemove, restartOnResume } from './restart-decisions.js';
import { runSteps, type Step, type StepResult } from './steps.js';
import { groupsToInitialise, initFailedError, initialiseGroups } from '../apply/management.js';

export interface LifecycleReport {
  steps: StepResult[];
  restart?: RestartReport;
  /** `user move` to the group the user is already in: nothing to move (the map is still put right). */
  already?: { user: string; group: string };
}

export interface LifecycleOptions {
  restartTimeoutMs: number;
  server?: WebServer;
}

/** The file plan, split into the routing map (written last when adding, first when removing) and the rest. */
async function planFor(inventory: Inventory): Promise<{ map: FileChange[]; other: FileChange[] }> {
  const changes = await desiredAgainstDisk(inventory);
  return { map: changes.filter((c) => isRoutingKind(c.kind)), other: changes.filter((c) => !isRoutingKind(c.kind)) };
}

/** A group left without users: a fresh instance for the next tenant (src/apply/release.ts). */
function releaseStep(inventory: Inventory, group: () => string | undefined, options: LifecycleOptions): Step {
  return {
    name: 'release',
    run: async () => {
      const name = group();
      if (name === undefined) return { skipped: 'not-needed' };
      return releaseGroup(inventory, name, { server: options.server ?? webServerOf(inventory), timeoutMs: options.restartTimeoutMs });
    },
  };
}

/** The groups' accounts and data directories, before any script that names them is written. */
function instanceStep(inventory: Inventory): Step {
  return {
    name: 'instance',
    run: async () => {
      const events = await ensureInstances(inventory);
      return events.length === 0 ? false : events;
    },
  };
}

/** A new instance (never initialised, or released) runs site.init before the map routes anyone to it. */
function initStep(inventory: Inventory, group: string): Step {
  return {
    name: 'init',
    run: async () => {
      if (!(await groupsToInitialise(inventory)).includes(group)) return { skipped: 'not-needed' };
      const result = await initialiseGroups(inventory, [group]);
      if (result.failed.length > 0) throw initFailedError(result.failed, 'the user is in the inventory but not routed to it');
      return result.events;
    },
  };
}

/** The map, then the mark that its groups have a tenant (so a release cut short is finished later). */
function mapStep(inventory: Inventory, changes: FileChange[]): Step {
  const write = writeFilesStep('procmap', changes);
  return {
    name: 'procmap',
    run: async () => {
      const done = await write.run();
      await markInUse(inventory, groupsInUse(inventory));
      return done;
    },
  };
}

function writeFilesStep(name: string, changes: FileChange[]): Step {
  return {
    name,
    run: async () => {
      if (changes.length === 0) return false;
      await applyFileChanges(changes);
      return changes.map(fileEvent);
    },
  };
}

function restartStep(inventory: Inventory, groups: () => string[], options: LifecycleOptions, report: LifecycleReport): Step {
  return {
    name: 'restart',
    run: async () => {
      const wanted = groups();
      if (wanted.length === 0) return { skipped: 'not-needed' };
      const server = options.server ?? webServerOf(inventory);
      report.restart = await server.restartGroups(wanted, { timeoutMs: options.restartTimeoutMs });
      const state = report.restart.server;
      if (!state.running) return { skipped: 'not-running', events: [{ kind: 'not-signalled', reason: state.reason }] };
      const failed = report.restart.groups.filter((g) => !g.done);
      if (failed.length > 0) throw new UserError(failed.map((g) => g.problem).join('; '), 'raise --timeout, or see Apache\'s error log');
      return report.restart.groups.map((g): Event => ({ kind: 'restarted', group: g.group, oldPids: g.oldPids, newPids: g.newPids }));
    },
  };
}

/** `kept`: the user already has a password, which is left as it is. */
function passwordStep(inventory: Inventory, user: string, password: string | undefined, kept = false): Step {
  return {
    name: 'password',
    run: async () => {
      if (kept) return { skipped: 'password-kept' };
      if (password === undefined) return { skipped: 'no-password' };
      await setPassword(inventory, user, password);
      return [{ kind: 'password', change: 'set', users: [user], location: credentialsOf(inventory).location }];
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
  // A group with no user that still carries an in-use mark was not released to the end (a crash,
  // a failure): picked last, and released before anyone is added to it.
  const inUse = await readInUse(inventory);
  const empty = inventory.groups.filter((g) => usersOf(inventory, g.name).length === 0);
  group ??= (empty.find((g) => !inUse.has(g.name)) ?? empty[0])?.name;
  if (group === undefined) {
    throw new UserError('every group already has a user', 'add a group to the inventory\'s pool (then `plexctl reconcile`), or name one with --group');
  }
  const target = group;
  const text = setUserGroup(session.text, request.user, target);
  const next = session.validateEdit(text, `user "${request.user}"`);
  const files = await planFor(next);
  const usersBefore = usersOf(inventory, target).length;
  const unfinishedRelease = usersBefore === 0 && inUse.has(target);
  const report: LifecycleReport = { steps: [] };
  report.steps = await runSteps([
    {
      name: 'inventory',
      run: async () => (await writeFileAtomic(session.file, text), [{ kind: 'inventory', change: 'set', user: request.user, group: target, file: session.file }]),
    },
    instanceStep(next),
    releaseStep(inventory, () => (unfinishedRelease ? target : undefined), options),
    writeFilesStep('scripts', files.other),
    restartStep(next, () => (unfinishedRelease ? restartOnMove(files.other) : restartOnAdd(target, usersBefore, files.other, usersBefore === 0 && !inUse.has(target))), options, report),
    initStep(next, target),
    mapStep(next, files.map),
    passwordStep(next, request.user, request.password),
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
  const hasPassword = await credentialsOf(inventory).has(request.user);
  if (mapped && (request.password === undefined || hasPassword)) throw refuse();
  const files = await planFor(inventory);
  const usersInGroup = usersOf(inventory, group).length;
  const report: LifecycleReport = { steps: [] };
  report.steps = await runSteps([
    { name: 'inventory', run: async () => [{ kind: 'inventory', change: 'present', user: request.user, group, file: session.file }] },
    writeFilesStep('scripts', files.other),
    // The earlier add may have stopped before its restart; a fresh tenant still gets a fresh process.
    restartStep(inventory, () => restartOnResume(group, mapped, usersInGroup), options, report),
    initStep(inventory, group),
    mapStep(inventory, files.map),
    passwordStep(inventory, request.user, request.password, hasPassword),
  ]);
  return report;
}

export async function removeUserFromSite(session: Session, user: string, options: LifecycleOptions): Promise<LifecycleReport> {
  const group = requireUser(session.inventory, user);
  const text = removeUser(session.text, user);
  const next = session.validateEdit(text, `removing "${user}"`);
  const files = await planFor(next);
  const usersAfter = usersOf(next, group).length;
  const report: LifecycleReport = { steps: [] };
  report.steps = await runSteps([
    {
      name: 'password',
      run: async () => {
        const credentials = credentialsOf(next);
        const removed = await credentials.remove([user]);
        if (removed.length === 0) return false;
        return [{ kind: 'password', change: 'removed', users: removed, location: credentials.location }];
      },
    },
    writeFilesStep('procmap', files.map),
    { name: 'inventory', run: async () => (await writeFileAtomic(session.file, text), [{ kind: 'inventory', change: 'removed', user, file: session.file }]) },
    writeFilesStep('scripts', files.other),
    // A former tenant's process and data must not live on: a group left without users is released.
    usersAfter === 0
      ? releaseStep(next, () => group, options)
      : restartStep(next, () => restartOnRemove(group, usersAfter, files.other), options, report),
    // Released: initialised again at once, so the next `user add` finds it ready.
    ...(usersAfter === 0 ? [initStep(next, group)] : []),
  ]);
  return report;
}

export async function moveUser(session: Session, user: string, group: string, options: LifecycleOptions): Promise<LifecycleReport> {
  const from = requireUser(session.inventory, user);
  requireGroup(session.inventory, group);
  if (from === group) {
    // Nothing to move; an earlier move cut short after the inventory still gets its map.
    const files = await planFor(session.inventory);
    const map: Step = files.map.length > 0 ? mapStep(session.inventory, files.map) : { name: 'procmap', run: async () => false };
    return { already: { user, group }, steps: await runSteps([map]) };
  }
  const text = setUserGroup(session.text, user, group);
  const next = session.validateEdit(text, `moving "${user}"`);
  const files = await planFor(next);
  const leftEmpty = usersOf(next, from).length === 0;
  const report: LifecycleReport = { steps: [] };
  report.steps = await runSteps([
    {
      name: 'inventory',
      run: async () => (await writeFileAtomic(session.file, text), [{ kind: 'inventory', change: 'set', user, group, from, file: session.file }]),
    },
    instanceStep(next),
    writeFilesStep('scripts', files.other),
    restartStep(next, () => restartOnMove(files.other).filter((g) => g !== from || !leftEmpty), options, report),
    initStep(next, group),
    mapStep(next, files.map),
    // After the map: the user now lands in the new group, and the old one may be left empty.
    releaseStep(next, () => (leftEmpty ? from : undefined), options),
  ]);
  return report;
}

export interface UserRow {
  user: string;
  group: string;
  password: boolean;
}

export async function listUsers(inventory: Inventory): Promise<UserRow[]> {
  const passwords = new Set(await credentialsOf(inventory).list());
  return inventory.users.map((u) => ({ ...u, password: passwords.has(u.user) }));
}
