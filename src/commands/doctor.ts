import type { WebServer } from '../server/web-server.js';
import type { Check } from '../doctor/check.js';
import { ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import type { CommandModule } from './command.js';

export interface DoctorOptions {
  inventory: string;
  server?: WebServer;
}

/** Exit 1 if any check FAILs (warnings do not), else 0. */
export async function doctorCommand(options: DoctorOptions, io: Io): Promise<ExitCode> {
  const { safetyWarnings } = await import('../inventory/warnings.js');
  const [{ formatChecks }, { loadInventory }, { webServerOf }] = await Promise.all([
    import('../doctor/check.js'),
    import('../inventory/load.js'),
    import('../server/for-inventory.js'),
  ]);
  const inventory = await loadInventory(options.inventory);
  const checks: Check[] = [];
  let trusted = true;
  if (process.getuid?.() === 0) {
    // First: the Apache checks run apache.ctl (on its -f configuration) and python-home's python
    // as root, so none of them runs while a path they trust can be changed by someone else.
    const { checkTrust } = await import('../trust.js');
    const reports = await checkTrust(inventory);
    const bad = reports.flatMap((r) => r.problems.map((p) => ({ ...p, what: r.what })));
    trusted = bad.length === 0;
    checks.push(
      bad.length > 0
        ? { name: 'trusted paths', status: 'FAIL' as const, detail: bad.map((p) => `${p.what}: ${p.path}: ${p.reason}`).join('; '), hint: [...new Set(bad.map((p) => p.fix))].join('; ') }
        : { name: 'trusted paths', status: 'ok' as const, detail: `${reports.length} paths plexctl writes into or trusts: owned by root, writable by nobody else` },
    );
  }
  if (trusted) checks.unshift(...(await (options.server ?? webServerOf(inventory)).doctorChecks()));
  else {
    checks.push({
      name: 'Apache',
      status: 'FAIL' as const,
      detail: 'not checked: the checks run apache.ctl and python as root, and a path they trust can be changed by someone else (see trusted paths)',
      hint: 'fix the trusted paths first, then run plexctl doctor again',
    });
  }
  const [{ readInstanceMarks }, { readyPoolCheck }] = await Promise.all([import('../apply/instance-marks.js'), import('../status/status.js')]);
  const marks = await readInstanceMarks(inventory);
  const users = new Map<string, number>();
  for (const u of inventory.users) users.set(u.group, (users.get(u.group) ?? 0) + 1);
  checks.push(readyPoolCheck(inventory.groups.map((g) => g.name), (g) => users.get(g) ?? 0, marks));
  const warnings = safetyWarnings(inventory, process.getuid?.() === 0);
  checks.push(
    warnings.length > 0
      ? { name: 'isolation', status: 'warn', detail: warnings.join('; '), hint: 'remove isolation: shared / on_release: keep from the inventory, and run plexctl as root' }
      : { name: 'isolation', status: 'ok', detail: `each of the ${inventory.groups.length} groups runs as its own account, with its own 0700 data directory` },
  );
  io.out(formatChecks(checks));
  return checks.some((c) => c.status === 'FAIL') ? ExitCode.failed : ExitCode.ok;
}

export const command: CommandModule = {
  name: 'doctor',
  summary: 'check the Apache side, with fix-it hints',
  description: 'check the Apache side (binary, modules, mod_wsgi, Python, Django, pid file, permissions); exit 1 if any check FAILs',
  run: (_args, _o, ctx) => doctorCommand({ inventory: ctx.inventory() }, ctx.io),
};
