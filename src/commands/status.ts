import { stat } from 'node:fs/promises';
import type { ProcessLister } from '../apache/daemons.js';
import { ExitCode } from '../exit-codes.js';
import { json, type Io } from '../io.js';
import { jsonOption } from '../options.js';
import type { DaemonFacts, ScriptTime, StatusInput } from '../status/status.js';
import type { CommandModule } from './command.js';

export interface StatusOptions {
  inventory: string;
  json: boolean;
  lister?: ProcessLister;
}

async function scriptTime(path: string): Promise<ScriptTime> {
  try {
    return { path, mtimeMs: (await stat(path)).mtimeMs };
  } catch {
    return { path };
  }
}

/** Informational: exit 0 whatever it finds; 1 only when it cannot report (the inventory is refused). */
export async function statusCommand(options: StatusOptions, io: Io): Promise<ExitCode> {
  const [{ apacheState, groupDaemons, listProcesses }, { processFacts }, { loadInventory }, { planRender }, { generatedPaths }, { buildStatus, formatStatus }] =
    await Promise.all([
      import('../apache/daemons.js'),
      import('../apache/proc.js'),
      import('../inventory/load.js'),
      import('../plan/plan-render.js'),
      import('../render/files.js'),
      import('../status/status.js'),
    ]);
  const inventory = await loadInventory(options.inventory);
  const processes = await (options.lister ?? listProcesses)();
  const apache = await apacheState(inventory.apache.pidFile, processes);
  const paths = generatedPaths(inventory);
  const daemons = new Map<string, DaemonFacts[]>();
  if (apache.running) {
    for (const group of inventory.groups) {
      const pids = groupDaemons(processes, apache.pid, group.name);
      const facts = await Promise.all(pids.map(processFacts));
      daemons.set(
        group.name,
        // A daemon that exited since the listing has no facts: leave it out.
        facts.flatMap((f) => (f ? [{ pid: f.pid, startedAtMs: f.startedAt.getTime(), rssBytes: f.rssBytes }] : [])),
      );
    }
  }
  const groupScripts = new Map(
    await Promise.all(inventory.groups.map(async (g) => [g.name, await scriptTime(paths.group(g.name))] as const)),
  );
  let drift: StatusInput['drift'];
  try {
    drift = await planRender(inventory);
  } catch (error) {
    drift = { error: error instanceof Error ? error.message : String(error) };
  }
  const report = buildStatus({
    inventoryFile: inventory.file,
    pidFile: inventory.apache.pidFile,
    apache,
    groups: inventory.groups.map((g) => g.name),
    users: inventory.users,
    daemons,
    mainScript: await scriptTime(paths.main),
    groupScripts,
    drift,
    nowMs: Date.now(),
  });
  io.out(options.json ? json(report) : formatStatus(report));
  return ExitCode.ok;
}

export const command: CommandModule<[], { json: boolean }> = {
  name: 'status',
  summary: 'groups, daemons, memory, staleness and drift',
  description:
    'each group: state (running, stale: started before its script changed, not running), daemon PIDs, ' +
    "uptime, memory and users; Apache's parent; managed files that drifted from the inventory. Exit 0",
  configure: (c) => c.addOption(jsonOption()),
  run: (_args, o, ctx) => statusCommand({ inventory: ctx.inventory(), json: o.json }, ctx.io),
};
