import { stat } from 'node:fs/promises';
import { ExitCode } from '../exit-codes.js';
import { loadInventory } from '../inventory/load.js';
import { json, type Io } from '../io.js';
import { desiredAgainstDisk } from '../observe/actual-files.js';
import { generatedPaths } from '../render/files.js';
import { webServerOf } from '../server/for-inventory.js';
import type { WebServer } from '../server/web-server.js';
import { buildStatus, formatStatus, type ScriptTime, type StatusInput } from '../status/status.js';

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
  const inventory = await loadInventory(options.inventory);
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
    mainScript: await scriptTime(paths.main),
    groupScripts,
    drift,
    nowMs: Date.now(),
  });
  io.out(options.json ? json(report) : formatStatus(report));
  return ExitCode.ok;
}
