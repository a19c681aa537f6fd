import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { WebServer } from '../server/web-server.js';
import { ExitCode } from '../exit-codes.js';
import { json, type Io } from '../io.js';
import { jsonOption } from '../options.js';
import type { ScriptTime, StatusInput } from '../status/status.js';
import type { CommandModule } from './command.js';

export interface StatusOptions {
  inventory: string;
  json: boolean;
  server?: WebServer;
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
  const { safetyWarnings } = await import('../inventory/warnings.js');
  const [{ loadInventory }, { desiredAgainstDisk }, { generatedPaths }, { webServerOf }, { buildStatus, formatStatus }] = await Promise.all([
    import('../inventory/load.js'),
    import('../observe/actual-files.js'),
    import('../render/files.js'),
    import('../server/for-inventory.js'),
    import('../status/status.js'),
  ]);
  const inventory = await loadInventory(options.inventory);
  const { readInstanceMarks } = await import('../apply/instance-marks.js');
  const observed = await (options.server ?? webServerOf(inventory)).observe();
  const paths = generatedPaths(inventory);
  const groupScripts = new Map(
    await Promise.all(inventory.groups.map(async (g) => [g.name, await scriptTime(paths.group(g.name))] as const)),
  );
  let drift: StatusInput['drift'];
  try {
    drift = await desiredAgainstDisk(inventory);
  } catch (error) {
    drift = { error: error instanceof Error ? error.message : String(error) };
  }
  const report = buildStatus({
    inventoryFile: inventory.file,
    pidFile: inventory.apache.pidFile,
    apache: observed.server,
    groups: inventory.groups.map((g) => g.name),
    users: inventory.users,
    daemons: observed.daemons,
    suspect: observed.suspect,
    released: await readdir(join(inventory.site.dataDir, '.released')).then(
      (names) => names.sort().map((n) => join(inventory.site.dataDir, '.released', n)),
      () => [],
    ),
    mainScript: await scriptTime(paths.main),
    groupScripts,
    drift,
    nowMs: Date.now(),
    ...(await readInstanceMarks(inventory)),
  });
  io.out(options.json ? json(report) : formatStatus(report));
  for (const warning of safetyWarnings(inventory, process.getuid?.() === 0)) io.err(`warning: ${warning}\n`);

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
