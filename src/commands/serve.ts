import { ExitCode } from '../exit-codes.js';
import { UserError } from '../errors.js';
import { loadInventory } from '../inventory/load.js';
import { withSession } from '../session.js';
import type { Inventory } from '../inventory/types.js';
import type { Io } from '../io.js';
import { writeGeneratedFiles } from '../apply/write-generated-files.js';
import { statOrUndefined } from '../apply/atomic-write.js';
import { aptGetLine, findMissing } from '../apache/prerequisites.js';
import { serverPaths, startServer, stopServer } from '../apache/private-server.js';

export interface ServeOptions {
  inventory: string;
  lockTimeoutMs: number;
  port: number;
  detach: boolean;
  stop: boolean;
}

export async function serveCommand(options: ServeOptions, io: Io): Promise<ExitCode> {
  const inventory = await loadInventory(options.inventory);
  const paths = serverPaths(inventory.dir);
  if (options.stop) {
    const pid = await stopServer(paths);
    io.out(pid === undefined ? 'No private Apache is running for this inventory.\n' : `Stopped the private Apache (pid ${pid}).\n`);
    return ExitCode.ok;
  }
  const missing = await findMissing();
  if (missing.length > 0) {
    throw new UserError(
      `missing: ${missing.map((m) => `${m.what} (package ${m.package})`).join(', ')}`,
      `install them as root: ${aptGetLine}`,
    );
  }
  // Rendering writes files: under the lock, like every other command that does.
  await withSession(options.inventory, options.lockTimeoutMs, (session) => writeGeneratedFiles(session.inventory));
  for (const warning of await warnings(inventory, paths.pidFile)) io.err(`warning: ${warning}\n`);
  const server = await startServer(paths, options.port, inventory.apache.confFile, process.getuid?.() === 0);
  io.out(
    `Serving ${inventory.file} at ${server.url} (Apache pid ${server.pid}, logs in ${paths.stateDir}/logs).\n` +
      inventory.users.map((u) => `  ${u.user} -> ${u.group}\n`).join(''),
  );
  if (options.detach) {
    io.out('Stop it with: plexctl serve --stop\n');
    return ExitCode.ok;
  }
  io.out('Press Ctrl-C to stop it.\n');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const pid = await stopServer(paths);
  io.out(`\nStopped the private Apache (pid ${pid ?? server.pid}).\n`);
  return ExitCode.ok;
}

async function warnings(inventory: Inventory, servePidFile: string): Promise<string[]> {
  const found: string[] = [];
  if (!(await statOrUndefined(inventory.apache.userFile))) {
    found.push(`${inventory.apache.userFile} does not exist, so nobody can log in: set passwords with \`plexctl user passwd NAME --password-stdin\``);
  }
  if (inventory.apache.pidFile !== servePidFile) {
    found.push(`apache.pid_file is ${inventory.apache.pidFile}; set it to ${servePidFile} so that restart and user commands find this server`);
  }
  return found;
}
