import { Option } from 'commander';
import { ExitCode } from '../exit-codes.js';
import { UserError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import type { Io } from '../io.js';
import { port } from '../options.js';
import type { CommandModule } from './command.js';

export interface ServeOptions {
  inventory: string;
  lockTimeoutMs: number;
  port: number;
  detach: boolean;
  stop: boolean;
}

export async function serveCommand(options: ServeOptions, io: Io): Promise<ExitCode> {
  const [{ loadInventory }, { checkServeState, serverPaths, startServer, stopServer }] = await Promise.all([
    import('../inventory/load.js'),
    import('../apache/private-server.js'),
  ]);
  const inventory = await loadInventory(options.inventory);
  const paths = serverPaths(inventory.dir);
  // Before anything is written or run: serve's directory, httpd.conf and pid file must be its own.
  await checkServeState(paths);
  if (options.stop) {
    const result = await stopServer(paths);
    io.out(result.stopped === undefined ? 'No private Apache is running for this inventory.\n' : `Stopped the private Apache (pid ${result.stopped}).\n`);
    if (result.reason) io.err(`warning: ${result.reason}\n`);
    return ExitCode.ok;
  }
  const [{ withSession }, { writeGeneratedFiles }, { aptGetLine, findMissing }] = await Promise.all([
    import('../session.js'),
    import('../apply/write-generated-files.js'),
    import('../apache/prerequisites.js'),
  ]);
  const missing = await findMissing();
  if (missing.length > 0) {
    throw new UserError(
      `missing: ${missing.map((m) => `${m.what} (package ${m.package})`).join(', ')}`,
      `install them as root: ${aptGetLine}`,
    );
  }
  // Rendering writes files: under the lock, like every other command that does. New instances
  // are initialised (site.init) before Apache starts, so nobody reaches one that is not ready.
  const { initialiseWritten, initFailedError } = await import('../apply/management.js');
  const { eventText } = await import('./words.js');
  const init = await withSession(options.inventory, options.lockTimeoutMs, async (session) => {
    await writeGeneratedFiles(session.inventory);
    if (process.getuid?.() === 0) {
      // The accounts exist now: every one of them, and Apache's user, must reach the site, or every request fails.
      const { checkSiteAccess } = await import('../apache/doctor-checks.js');
      const access = await checkSiteAccess(session.inventory);
      if (access.status === 'FAIL') {
        throw new UserError(`not started: every request would fail (403 or 500): ${access.detail}`, `${access.hint}; then run plexctl serve again`);
      }
    }
    return initialiseWritten(session.inventory);
  });
  for (const event of init.events) io.out(`${eventText(event)}\n`);
  for (const warning of await warnings(inventory, paths.pidFile)) io.err(`warning: ${warning}\n`);
  const fragments = inventory.apache.siteFile === undefined ? [inventory.apache.confFile] : [inventory.apache.confFile, inventory.apache.siteFile];
  const server = await startServer(paths, options.port, fragments, process.getuid?.() === 0);
  io.out(
    `Serving ${inventory.file} at ${server.url} (Apache pid ${server.pid}, logs in ${paths.stateDir}/logs).\n` +
      inventory.users.map((u) => `  ${u.user} -> ${u.group}\n`).join(''),
  );
  if (init.failed.length > 0) io.err(`error: ${initFailedError(init.failed, 'its users are answered 503').message}\n`);
  if (options.detach) {
    io.out('Stop it with: plexctl serve --stop\n');
    return init.failed.length > 0 ? ExitCode.failed : ExitCode.ok;
  }
  io.out('Press Ctrl-C to stop it.\n');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const result = await stopServer(paths);
  io.out(`\nStopped the private Apache (pid ${result.stopped ?? server.pid}).\n`);
  return ExitCode.ok;
}

async function warnings(inventory: Inventory, servePidFile: string): Promise<string[]> {
  const { statOrUndefined } = await import('../apply/atomic-write.js');
  const found: string[] = [];
  if (!(await statOrUndefined(inventory.apache.userFile))) {
    found.push(`${inventory.apache.userFile} does not exist, so nobody can log in: set passwords with \`plexctl user passwd NAME --password-stdin\``);
  }
  if (inventory.apache.pidFile !== servePidFile) {
    found.push(`apache.pid_file is ${inventory.apache.pidFile}; set it to ${servePidFile} so that restart and user commands find this server`);
  }
  return found;
}

export const command: CommandModule<[], { port: number; detach: boolean; stop: boolean }> = {
  name: 'serve',
  summary: 'run a private Apache for this inventory on 127.0.0.1',
  description:
    'render, then run a private Apache for this inventory on 127.0.0.1 (config, logs and sockets in ' +
    '<inventory dir>/.plexctl/serve/); Ctrl-C stops it',
  configure: (c) =>
    c
      .addOption(new Option('--port <n>', 'port on 127.0.0.1').default(8080).argParser(port))
      .option('--detach', 'start it in the background and return', false)
      .option('--stop', 'stop the private Apache started with --detach', false),
  run: (_args, o, ctx) =>
    serveCommand({ inventory: ctx.inventory(), lockTimeoutMs: ctx.lockTimeoutMs(), port: o.port, detach: o.detach, stop: o.stop }, ctx.io),
};
