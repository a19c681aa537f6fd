/**
 * Management commands in an instance (src/instance/management.ts says how one is run), and the
 * initialisation of new instances: `site.init`'s commands, once per data directory, before any
 * user is routed to it. A group's initialisation is recorded in a root-only mark
 * (group-marks.ts, set `initialised`), cleared when the group is released.
 */
import { UserError } from '../errors.js';
import type { Group, Inventory } from '../inventory/types.js';
import { commandText, managementInvocation, type InvocationOptions } from '../instance/management.js';
import type { Event } from '../model/events.js';
import { readRegularFile } from '../system/safe-fs.js';
import { runAsAccount, type RunResult, type Stdio } from '../system/run-as-account.js';
import { groupMarks } from './group-marks.js';
import { desiredAgainstDisk } from '../observe/actual-files.js';
import { isRoutingKind, renderFiles } from '../render/generated-files.js';
import { applyFileChanges } from './apply-files.js';

const initialised = groupMarks('initialised');
export const readInitialised = (inventory: Inventory) => initialised.read(inventory);
export const clearInitialised = (inventory: Inventory, group: string) => initialised.clear(inventory, group);

/** The groups whose instance still needs `site.init` (none when the inventory has no init). */
export async function groupsToInitialise(inventory: Inventory): Promise<string[]> {
  if (inventory.site.init.length === 0) return [];
  const done = await readInitialised(inventory);
  return inventory.groups.filter((g) => !done.has(g.name)).map((g) => g.name);
}

/**
 * The group's settings script on disk must be the one the inventory renders (the daemons load
 * it): a stale or hand-edited one would run the command against another configuration.
 */
async function requireCurrentScript(inventory: Inventory, group: Group): Promise<void> {
  const wanted = renderFiles(inventory).find((f) => f.kind === 'group-script' && f.group === group.name);
  if (!wanted) return;
  const actual = await readRegularFile(wanted.path, { maxBytes: 4 * 1024 * 1024 });
  if (actual === undefined || actual.content.toString('utf8') !== wanted.content) {
    throw new UserError(
      `${wanted.path} ${actual === undefined ? 'does not exist' : 'differs from what the inventory renders'}: group ${group.name}'s instance is not set up as the inventory says`,
      'run `plexctl reconcile` first (it writes the script and restarts the group)',
    );
  }
}

export async function runManagement(
  inventory: Inventory,
  group: Group,
  args: string[],
  options: Omit<InvocationOptions, 'asRoot'>,
  stdio: Stdio,
  onLine?: (line: string) => void,
): Promise<RunResult> {
  await requireCurrentScript(inventory, group);
  const invocation = managementInvocation(inventory, group, args, { ...options, asRoot: process.getuid?.() === 0 });
  return runAsAccount({ file: invocation.python, args: invocation.args, env: invocation.env, cwd: invocation.cwd, ...(invocation.account ? { account: invocation.account } : {}) }, stdio, onLine);
}

/** `site.init` failed in a group: its users are not routed to it (the map sends them a 503). */
export interface InitFailure {
  group: string;
  command: string;
  exitCode: number;
  output: string;
}

export interface InitResult {
  events: Event[];
  failed: InitFailure[];
}

/** Run site.init in each of `groups` (in order), marking each that completes. Never throws for a failed command. */
export async function initialiseGroups(inventory: Inventory, groups: string[]): Promise<InitResult> {
  const result: InitResult = { events: [], failed: [] };
  for (const name of groups) {
    const group = inventory.groups.find((g) => g.name === name);
    if (!group) continue;
    let failure: InitFailure | undefined;
    for (const args of inventory.site.init) {
      const run = await runManagement(inventory, group, args, {}, 'pipe');
      if (run.exitCode !== 0) {
        failure = { group: name, command: commandText(args), exitCode: run.exitCode, output: run.output };
        break;
      }
    }
    if (failure) {
      result.failed.push(failure);
      continue;
    }
    await initialised.mark(inventory, [name]);
    result.events.push({ kind: 'initialised', group: name, commands: inventory.site.init.map(commandText) });
  }
  return result;
}

/** The error for failed initialisations: which command, its last lines, and what to do. */
export function initFailedError(failed: InitFailure[], routed: string): UserError {
  const tail = (text: string) => text.trimEnd().split('\n').slice(-8).map((l) => `    ${l}`).join('\n');
  return new UserError(
    `site.init failed in ${failed.map((f) => f.group).join(', ')}; ${routed}:\n${failed.map((f) => `  ${f.group}: \`${f.command}\` exited ${f.exitCode}\n${tail(f.output)}`).join('\n')}`,
    'fix the cause (try it with `plexctl manage GROUP -- COMMAND`), then run `plexctl reconcile`: it runs init again',
  );
}

/**
 * After the files were written (serve, render): initialise the new instances, and if one fails,
 * rewrite the map so that its users are answered 503 instead of reaching it.
 */
export async function initialiseWritten(inventory: Inventory): Promise<InitResult> {
  const result = await initialiseGroups(inventory, await groupsToInitialise(inventory));
  if (result.failed.length > 0) {
    const unready = new Set(result.failed.map((f) => f.group));
    const changes = (await desiredAgainstDisk(inventory, undefined, { unready })).filter((c) => isRoutingKind(c.kind));
    await applyFileChanges(changes);
  }
  return result;
}
