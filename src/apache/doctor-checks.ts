/**
 * `plexctl doctor`'s checks of the Apache side of an inventory. Each check reads and runs
 * read-only commands (`apache2 -v`, `CTL -M`, `dpkg-query`, `python3`), never changes a file and
 * never sends a signal other than 0 (the permission probe), and only to a process that is Apache.
 */
import { constants, type Stats } from 'node:fs';
import { access, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { exec } from '../exec.js';
import { apacheState, groupDaemons, listProcesses, type ApacheState, type ProcessInfo, type ProcessLister } from './daemons.js';
import { apacheBinary, moduleDir, systemPython } from './prerequisites.js';
import { cleanEnv } from './private-server.js';
import { configTest, includeFix, isIncluded } from './ctl.js';
import { apacheUser } from './system-user.js';
import { credentialsOf } from '../credentials/for-inventory.js';
import { daemonOptionTypes } from '../inventory/daemon-options.js';
import type { Inventory } from '../inventory/types.js';
import { fail, ok, warn, type Check } from '../doctor/check.js';
import { isLoopback, listeningAddresses, type ListenAddress } from './listening.js';

export { formatChecks, type Check, type CheckStatus } from '../doctor/check.js';

export const modWsgiFile = join(moduleDir, 'mod_wsgi.so');
export const modWsgiPackage = 'libapache2-mod-wsgi-py3';

/** The modules the generated configuration uses, as `apache2 -M` names them (also their a2enmod names), besides the credentials' own. */
export const requiredModules = ['wsgi', 'rewrite', 'auth_basic', 'authz_user', 'authn_core', 'authz_core'] as const;

/** With auth: form, the login page and its session instead of Basic auth (headers: the cookie edits; alias: the login page). */
export const formLoginModules = ['auth_form', 'session', 'session_cookie', 'session_crypto', 'request', 'headers', 'alias'] as const;

/** The modules an inventory's fragment needs, besides its credentials' own. */
export function requiredModulesFor(inventory: Pick<Inventory, 'apache'> & { site?: Pick<Inventory['site'], 'static'> }): string[] {
  const modules: string[] = inventory.apache.auth === 'form'
    ? [...requiredModules.filter((m) => m !== 'auth_basic'), ...formLoginModules]
    : [...requiredModules];
  // site.static: an Alias, and a Content-Type for each file.
  if (inventory.site?.static) modules.push(...['alias', 'mime'].filter((m) => !modules.includes(m)));
  return modules;
}

interface RunResult {
  ok: boolean;
  output: string;
  /** The program could not be started at all (ENOENT, EACCES). */
  notStarted: boolean;
}

/** Run a read-only command with a clean environment; never throws. */
async function run(command: string, args: string[]): Promise<RunResult> {
  try {
    const r = await exec(command, args, { reject: false, all: true, extendEnv: false, env: cleanEnv, timeout: 60_000 });
    const notStarted = r.exitCode === undefined && !r.timedOut;
    return { ok: r.exitCode === 0, output: (r.all ?? '').trim() || (notStarted ? (r.message ?? '') : ''), notStarted };
  } catch (error) {
    return { ok: false, output: error instanceof Error ? error.message : String(error), notStarted: true };
  }
}

const lastLines = (text: string, n = 5) => text.split('\n').slice(-n).join('\n');
const shellWord = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", "'\\''")}'`);
const commandLine = (argv: string[]) => argv.map(shellWord).join(' ');

// ---------------------------------------------------------------------------------------------
// Pure helpers (unit-tested)

/** Module names (without `_module`) from the output of `apache2 -M`. */
export function parseLoadedModules(output: string): Set<string> {
  const names = new Set<string>();
  for (const match of output.matchAll(/^\s*(\w+)_module \((?:static|shared)\)\s*$/gm)) names.add(match[1]!);
  return names;
}

/** The WSGIDaemonProcess option names the inventory uses, plus display-name, which plexctl always sets. */
export function daemonOptionNames(inventory: { defaults: Inventory['defaults']; groups: { name: string; env: unknown[]; settings: unknown[]; daemon: Inventory['defaults'] }[] }): string[] {
  const names = new Set<string>(['display-name', ...Object.keys(inventory.defaults)]);
  for (const group of inventory.groups) for (const name of Object.keys(group.daemon)) names.add(name);
  return [...names];
}

/**
 * Option names that do not occur in the module's bytes. mod_wsgi compares each option with a
 * C string literal, so a known name is in the binary followed by NUL (possibly as the tail of a
 * longer literal: the linker merges string tails, so this can miss nothing it should find).
 */
export function namesMissingFromBinary(names: string[], binary: Buffer): string[] {
  return names.filter((name) => binary.indexOf(Buffer.from(`${name}\0`, 'ascii')) < 0);
}

/** The Python version a mod_wsgi.so links against, from its libpythonX.Y dependency. */
export function linkedPython(binary: Buffer): string | undefined {
  return /libpython(\d+\.\d+)/.exec(binary.toString('latin1'))?.[1];
}

export interface Identity {
  uid: number;
  gids: Set<number>;
}

/** Whether `who` has permission `bit` (4 r, 2 w, 1 x) on a file, by the owner/group/other rule. */
export function mayAccess(info: Pick<Stats, 'mode' | 'uid' | 'gid'>, who: Identity, bit: 1 | 2 | 4): boolean {
  if (info.uid === who.uid) return (info.mode & (bit << 6)) !== 0;
  if (who.gids.has(info.gid)) return (info.mode & (bit << 3)) !== 0;
  return (info.mode & bit) !== 0;
}

/** `/a/b/c` -> `/`, `/a`, `/a/b`, `/a/b/c`. */
export function pathPrefixes(path: string): string[] {
  const parts = resolve(path).split(sep).filter(Boolean);
  return [sep, ...parts.map((_, i) => sep + parts.slice(0, i + 1).join(sep))];
}

/** A user's uid and groups from /etc/passwd and /etc/group text. */
export function identityOf(user: string, passwd: string, group: string): Identity | undefined {
  const entry = passwd.split('\n').find((line) => line.split(':')[0] === user)?.split(':');
  if (!entry || entry.length < 4) return undefined;
  const gids = new Set([Number(entry[3])]);
  for (const line of group.split('\n')) {
    const [, , gid, members] = line.split(':');
    if (gid !== undefined && (members ?? '').split(',').includes(user)) gids.add(Number(gid));
  }
  return { uid: Number(entry[2]), gids };
}

// ---------------------------------------------------------------------------------------------
// The checks

export async function checkApacheBinary(): Promise<Check> {
  const name = 'Apache';
  const r = await run(apacheBinary, ['-v']);
  if (!r.ok) {
    return fail(name, `${apacheBinary} -v did not run: ${lastLines(r.output, 2)}`, 'install it: apt-get install -y apache2');
  }
  const version = /Server version:\s*(.+)/.exec(r.output)?.[1]?.trim() ?? r.output.split('\n')[0]!;
  if (!/Apache\/2\.4\./.test(version)) {
    return warn(name, `${version} (${apacheBinary})`, 'plexctl is built and tested for Apache 2.4');
  }
  return ok(name, `${version} (${apacheBinary})`);
}

export async function checkModules(ctl: string[], required: readonly string[] = requiredModules): Promise<Check> {
  const name = 'modules';
  const argv = [...ctl, '-M'];
  const r = await run(ctl[0]!, [...ctl.slice(1), '-M']);
  if (!r.ok) {
    return fail(
      name,
      `\`${commandLine(argv)}\` failed: ${lastLines(r.output)}`,
      r.notStarted
        ? `apache.ctl names a program that cannot be run (${ctl[0]}); set it to /usr/sbin/apache2ctl or [/usr/sbin/apache2, -f, HTTPD_CONF]`
        : `Apache could not read its configuration: \`${commandLine([...ctl, '-t'])}\` shows where`,
    );
  }
  const loaded = parseLoadedModules(r.output);
  const missing = required.filter((m) => !loaded.has(m));
  if (missing.length > 0) {
    const file = ctl.includes('-f') ? ctl[ctl.indexOf('-f') + 1] : undefined;
    return fail(
      name,
      `not loaded: ${missing.join(', ')} (\`${commandLine(argv)}\`)`,
      file !== undefined
        ? `load them in ${file}: ${missing.map((m) => `LoadModule ${m}_module ${join(moduleDir, `mod_${m}.so`)}`).join('; ')}`
        : `a2enmod ${missing.join(' ')} && apache2ctl -k graceful`,
    );
  }
  return ok(name, `${required.join(', ')} loaded (\`${commandLine(argv)}\`)`);
}

/** `CTL -t -D DUMP_INCLUDES`: the configuration is valid and loads conf_file (what reconcile checks before it signals). */
export async function checkFragmentLoaded(ctl: string[], fragment: string): Promise<Check> {
  const name = 'fragment';
  const argv = [...ctl, '-t', '-D', 'DUMP_INCLUDES'];
  const test = await configTest(ctl);
  if (!test.ok) {
    const where = test.rejected ? ` (${test.rejected.file} line ${test.rejected.line})` : '';
    return fail(name, `\`${commandLine(argv)}\` failed${where}: ${lastLines(test.output)}`, `fix the file Apache names${where}; \`${commandLine([...ctl, '-t'])}\` shows the error`);
  }
  if (!(await isIncluded(test.includes, fragment))) {
    return fail(name, `${fragment} is not loaded by Apache's configuration (\`${commandLine(argv)}\`): reconcile refuses to signal Apache`, await includeFix(ctl, fragment));
  }
  return ok(name, `${fragment} is loaded (\`${commandLine(argv)}\`)`);
}

export async function checkModWsgi(binary: Buffer | undefined): Promise<Check> {
  const name = 'mod_wsgi';
  if (binary === undefined) {
    return fail(name, `${modWsgiFile} cannot be read`, `apt-get install -y ${modWsgiPackage} (and a2enmod wsgi)`);
  }
  const dpkg = await run('dpkg-query', ['-W', '-f', '${Version}', modWsgiPackage]);
  // Without dpkg (not Debian), the version string compiled into the module.
  const version = dpkg.ok ? dpkg.output : /\0(\d+\.\d+\.\d+)\0/.exec(binary.toString('latin1'))?.[1];
  const python = linkedPython(binary);
  const detail = `${version !== undefined ? `${dpkg.ok ? `${modWsgiPackage} ` : ''}${version}` : 'version unknown'}, embeds Python ${python ?? '(unknown)'} (${modWsgiFile})`;
  const [major, minor] = (version ?? '').split(/[.:-]/).map(Number);
  if (major === undefined || minor === undefined || Number.isNaN(major) || Number.isNaN(minor) || major < 4 || (major === 4 && minor < 9)) {
    return warn(name, detail, 'plexctl\'s daemon options and titles are those of mod_wsgi 4.9; upgrade it: apt-get install -y ' + modWsgiPackage);
  }
  return ok(name, detail);
}

export async function checkPython(embedded: string | undefined): Promise<Check> {
  const name = 'Python';
  const r = await run(systemPython, ['--version']);
  if (!r.ok) return fail(name, `${systemPython} --version did not run: ${lastLines(r.output, 2)}`, 'apt-get install -y python3');
  const version = /Python (\d+\.\d+)(\.\d+)?/.exec(r.output);
  if (embedded !== undefined && version?.[1] !== embedded) {
    return warn(
      name,
      `${r.output} (${systemPython}), but mod_wsgi embeds Python ${embedded}`,
      `the Django check below uses ${systemPython}, not the daemons' Python; install the ${modWsgiPackage} built for ${version?.[1] ?? 'it'}`,
    );
  }
  return ok(name, `${r.output} (${systemPython})${embedded !== undefined ? ', the one mod_wsgi embeds' : ''}`);
}

/** Django, in the system Python and in each python-home (virtualenv) the groups use. */
export async function checkDjango(inventory: Pick<Inventory, 'defaults' | 'groups'>): Promise<Check> {
  const name = 'Django';
  const homes = new Set<string | undefined>();
  for (const group of inventory.groups) {
    const home = group.pythonHome;
    homes.add(home === undefined ? undefined : String(home));
  }
  const found: string[] = [];
  const problems: string[] = [];
  const hints: string[] = [];
  for (const home of homes) {
    const python = home === undefined ? systemPython : join(home, 'bin', 'python3');
    const r = await run(python, ['-c', 'import django; print(django.get_version())']);
    if (r.ok) {
      found.push(`Django ${r.output} (${python})`);
    } else {
      problems.push(`${python} cannot import django: ${lastLines(r.output, 1)}`);
      hints.push(home === undefined ? 'apt-get install -y python3-django' : `${python} -m pip install django`);
    }
  }
  if (problems.length > 0) return fail(name, [...problems, ...found].join('; '), hints.join('; '));
  return ok(name, found.join('; '));
}

export async function checkPidFile(pidFile: string, apache: ApacheState): Promise<Check> {
  const name = 'pid file';
  try {
    await access(pidFile, constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES') {
      return fail(name, `${pidFile} cannot be read (permission denied)`, 'run plexctl as root or as Apache\'s user');
    }
  }
  if (apache.running) return ok(name, `${pidFile}: Apache parent pid ${apache.pid}`);
  const start = 'start Apache (`apache2ctl start`, or `plexctl serve --detach` for a private one)';
  const point = 'set apache.pid_file to the PidFile of the Apache that serves this site (Debian: /run/apache2/apache2.pid)';
  const hint = /is not Apache/.test(apache.reason)
    ? `the pid file is stale and its pid was reused; plexctl sends no signal to that process. ${start}, or ${point}`
    : `${start}, or ${point}`;
  return fail(name, apache.reason, hint);
}

/** Signal 0 (a permission probe that delivers nothing) to the Apache parent and the groups' daemons. */
export function checkSignal(apache: ApacheState, processes: ProcessInfo[], groups: string[]): Check {
  const name = 'signals';
  if (!apache.running) {
    return warn(name, 'not checked: no live Apache in the pid file (see above)', 'fix the pid file first, then run plexctl doctor again');
  }
  const daemons = groups.flatMap((g) => groupDaemons(processes, apache.pid, g));
  const denied: number[] = [];
  for (const pid of [apache.pid, ...daemons]) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EPERM') denied.push(pid);
      // ESRCH: it exited meanwhile; nothing to say.
    }
  }
  if (denied.length > 0) {
    return fail(
      name,
      `may not signal ${denied.map((pid) => (pid === apache.pid ? `the Apache parent ${pid}` : `daemon ${pid}`)).join(', ')}`,
      'run plexctl as root, or as the user Apache and its daemons run as',
    );
  }
  return ok(name, `may signal the Apache parent ${apache.pid} and ${daemons.length} daemon${daemons.length === 1 ? '' : 's'}`);
}

/** The nearest directory of `path` that exists (the path itself if it does). */
async function existingAncestor(path: string): Promise<{ dir: string; info: Stats } | undefined> {
  for (let p = resolve(path); ; p = dirname(p)) {
    const info = await stat(p).catch(() => undefined);
    if (info) return { dir: p, info };
    if (dirname(p) === p) return undefined;
  }
}

export async function checkWritable(inventory: Inventory): Promise<Check> {
  const name = 'writable';
  const targets: [string, string][] = [
    ['wsgi_dir', inventory.apache.wsgiDir],
    ['conf_file\'s directory', dirname(inventory.apache.confFile)],
    ...(inventory.apache.siteFile !== undefined ? [['site_file\'s directory', dirname(inventory.apache.siteFile)] as [string, string]] : []),
    ['user_file\'s directory', dirname(inventory.apache.userFile)],
    ['the inventory\'s directory (lock file)', inventory.dir],
  ];
  const problems: string[] = [];
  const fine: string[] = [];
  for (const [what, dir] of targets) {
    const found = await existingAncestor(dir);
    if (!found) {
      problems.push(`${what} ${dir}: no part of it exists`);
      continue;
    }
    if (found.dir === dir && !found.info.isDirectory()) {
      problems.push(`${what} ${dir}: is not a directory`);
      continue;
    }
    const via = found.dir === dir ? '' : ` (does not exist yet; ${found.dir} is where it would be created)`;
    try {
      await access(found.dir, constants.W_OK | constants.X_OK);
      fine.push(`${dir}${via}`);
    } catch (error) {
      problems.push(`${what} ${dir}${via}: not writable (${(error as NodeJS.ErrnoException).code})`);
    }
  }
  if (problems.length > 0) {
    return fail(
      name,
      problems.join('; '),
      'run plexctl as root or as the owner of these directories: each file is written as a temp file in its directory and renamed',
    );
  }
  return ok(name, [...new Set(fine)].join(', '));
}

export function checkDaemonOptions(inventory: { defaults: Inventory['defaults']; groups: { name: string; env: unknown[]; settings: unknown[]; daemon: Inventory['defaults'] }[] }, binary: Buffer | undefined): Check {
  const name = 'daemon options';
  const names = daemonOptionNames(inventory);
  const unknown = names.filter((n) => n !== 'display-name' && !Object.hasOwn(daemonOptionTypes, n));
  if (unknown.length > 0) {
    return fail(name, `not mod_wsgi 4.9 options: ${unknown.join(', ')}`, 'fix defaults/daemon in the inventory (`plexctl validate` says how)');
  }
  if (binary === undefined) return fail(name, `${modWsgiFile} cannot be read to confirm ${names.join(', ')}`, `apt-get install -y ${modWsgiPackage}`);
  const missing = namesMissingFromBinary(names, binary);
  if (missing.length > 0) {
    return fail(
      name,
      `the installed mod_wsgi does not know: ${missing.join(', ')}`,
      `remove them from defaults/daemon in the inventory, or upgrade ${modWsgiPackage}`,
    );
  }
  return ok(name, `${names.join(', ')}: known to ${modWsgiFile}`);
}

/** gid of a group name, from /etc/group text. */
function gidOf(name: string, group: string): number | undefined {
  const entry = group.split('\n').find((line) => line.split(':')[0] === name)?.split(':');
  return entry && entry[2] !== undefined ? Number(entry[2]) : undefined;
}

/** What one reader must be able to do on a path: search (x) a directory, list it too (rx), or read a file (r). */
type Need = 'x' | 'rx' | 'r';
const bits: Record<Need, (1 | 4)[]> = { x: [1], rx: [4, 1], r: [4] };

/**
 * As root: can Apache's user and every group's account reach the site? Apache's workers search
 * every directory up to wsgi_dir, user_file's directory and each python_path entry, and read
 * user_file; each group's daemons (its account, with its group and the account's supplementary
 * groups) search every directory up to wsgi_dir and up to each python_path entry, and list that
 * entry (Python's import reads it). Each path is checked as written and as its real path. An
 * account that does not exist yet is left out (render creates it). Used by `doctor` and by
 * `serve`, which refuses to start when this fails.
 */
export async function checkSiteAccess(inventory: Inventory): Promise<Check> {
  const name = 'site access';
  const [passwd, group] = await Promise.all([
    readFile('/etc/passwd', 'utf8').catch(() => ''),
    readFile('/etc/group', 'utf8').catch(() => ''),
  ]);
  const apache = identityOf(apacheUser, passwd, group);
  if (!apache) return fail(name, `there is no user ${apacheUser}`, 'apt-get install -y apache2 creates it');
  const { wsgiDir, userFile } = inventory.apache;
  const pythonPath = inventory.site.pythonPath;
  // Without an account of its own, a group's daemons run as Apache's user.
  const apacheRunsDaemons = inventory.groups.some((g) => g.runAs === undefined);
  const readers: { label: string; who: Identity; needs: [string, Need][] }[] = [
    { label: apacheUser, who: apache, needs: [[wsgiDir, 'x'], [dirname(userFile), 'x'], [userFile, 'r'], ...pythonPath.map((p): [string, Need] => [p, apacheRunsDaemons ? 'rx' : 'x'])] },
  ];
  const accounts = new Set<string>();
  for (const g of inventory.groups) {
    if (!g.runAs || accounts.has(`${g.runAs.user}:${g.runAs.group}`) || g.runAs.user === apacheUser) continue;
    accounts.add(`${g.runAs.user}:${g.runAs.group}`);
    const who = identityOf(g.runAs.user, passwd, group);
    if (!who) continue;
    const gid = gidOf(g.runAs.group, group);
    if (gid !== undefined) who.gids.add(gid);
    readers.push({ label: g.runAs.user, who, needs: [[wsgiDir, 'x'], ...pythonPath.map((p): [string, Need] => [p, 'rx'])] });
  }
  // path -> what is missing there, and for whom.
  const denied = new Map<string, { info: Stats; need: Need; who: Set<string> }>();
  const absent = new Set<string>();
  const deny = (path: string, info: Stats, need: Need, who: string) => {
    const entry = denied.get(path) ?? { info, need, who: new Set<string>() };
    if (need === 'rx' && entry.need === 'x') entry.need = 'rx';
    entry.who.add(who);
    denied.set(path, entry);
  };
  for (const reader of readers) {
    for (const [target, need] of reader.needs) {
      const real = await realpath(target).catch(() => undefined);
      if (real === undefined) absent.add(target);
      for (const path of new Set([target, ...(real !== undefined ? [real] : [])])) {
        const prefixes = need === 'r' ? pathPrefixes(dirname(path)) : pathPrefixes(path).slice(0, -1);
        for (const dir of prefixes) {
          const info = await stat(dir).catch(() => undefined);
          if (info !== undefined && !mayAccess(info, reader.who, 1)) deny(dir, info, 'x', reader.label);
        }
        const info = await stat(path).catch(() => undefined);
        if (info === undefined) continue; // not there yet; render creates it
        if (!bits[need].every((bit) => mayAccess(info, reader.who, bit))) deny(path, info, need, reader.label);
      }
    }
  }
  if (denied.size > 0) {
    const verb: Record<Need, string> = { x: 'search', rx: 'list', r: 'read' };
    const problems = [...denied].map(
      ([path, { info, need, who }]) => `${[...who].join(', ')} cannot ${verb[need]} ${path} (mode ${(info.mode & 0o7777).toString(8).padStart(4, '0')}, uid ${info.uid}, gid ${info.gid})`,
    );
    const hints = [...denied].map(([path, { need }]) =>
      need === 'r' ? `chgrp ${apacheUser} ${shellWord(path)} && chmod 0640 ${shellWord(path)}` : `chmod o+${need} ${shellWord(path)}`,
    );
    return fail(name, problems.join('; '), `${hints.join('; ')} (or give that access to a group they share)`);
  }
  const note = absent.size > 0 ? `; not there yet: ${[...absent].join(', ')}` : '';
  const n = pythonPath.length;
  return ok(name, `${readers.map((r) => r.label).join(', ')} can reach wsgi_dir, user_file and ${n} python_path entr${n === 1 ? 'y' : 'ies'}${note}`);
}

/**
 * Basic auth sends the password with every request, form login the password once and then the
 * session cookie: over plain HTTP off this machine, anyone on the path reads them. What Apache
 * really listens on (its sockets in /proc), so a Listen in any conf file counts.
 */
export function tlsCheck(tls: boolean, auth: string, listening: ListenAddress[] | { notChecked: string }): Check {
  const name = 'TLS';
  if (tls) return ok(name, 'apache.tls: true: the site is marked as served over HTTPS only');
  if (!Array.isArray(listening)) return ok(name, `not checked: ${listening.notChecked}`);
  // A running Apache always listens somewhere: none found means the sockets were not seen.
  if (listening.length === 0) return ok(name, 'not checked: no listening TCP socket of Apache\'s parent was found in /proc');
  const shown = (a: ListenAddress) => `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
  const open = listening.filter((a) => !isLoopback(a.address));
  if (open.length === 0) return ok(name, `Apache listens on loopback only (${listening.map(shown).join(', ')}): passwords never leave this machine`);
  const secret = auth === 'form' ? 'form login sends the password, then the session cookie,' : 'Basic auth sends the password with every request';
  return warn(
    name,
    `Apache listens on ${open.map(shown).join(', ')} and the site is not marked TLS (apache.tls: false): ${secret} readable by anyone between the browser and this machine`,
    'serve the site in a TLS <VirtualHost> (apache.site_file; README: the site in a VirtualHost) and set apache.tls: true, or listen on 127.0.0.1 only',
  );
}

async function checkTls(inventory: Inventory, apache: ApacheState): Promise<Check> {
  if (inventory.apache.tls) return tlsCheck(true, inventory.apache.auth, []);
  if (!apache.running) return tlsCheck(false, inventory.apache.auth, { notChecked: 'Apache is not running' });
  const listening = await listeningAddresses(apache.pid).catch((error: NodeJS.ErrnoException) => ({ notChecked: `cannot read Apache's sockets (${error.code ?? error.message}): run doctor as root` }));
  return tlsCheck(false, inventory.apache.auth, listening);
}

/** Every check, in order; a check that throws is reported as a FAIL, never as a crash of doctor. */
export async function runChecks(inventory: Inventory, options: { lister?: ProcessLister; asRoot?: boolean } = {}): Promise<Check[]> {
  const guard = async (name: string, check: () => Promise<Check> | Check): Promise<Check> => {
    try {
      return await check();
    } catch (error) {
      return fail(name, `the check itself failed: ${error instanceof Error ? error.message : String(error)}`, 'report this as a plexctl bug');
    }
  };
  const binary = await readFile(modWsgiFile).catch(() => undefined);
  const processes = await (options.lister ?? listProcesses)();
  const apache = await apacheState(inventory.apache.pidFile, processes);
  const asRoot = options.asRoot ?? process.getuid?.() === 0;
  const checks: Check[] = [];
  checks.push(await guard('Apache', checkApacheBinary));
  const modules = [...requiredModulesFor(inventory), ...credentialsOf(inventory).webServerConfig().modules];
  checks.push(await guard('modules', () => checkModules(inventory.apache.ctl, modules)));
  checks.push(await guard('fragment', () => checkFragmentLoaded(inventory.apache.ctl, inventory.apache.confFile)));
  checks.push(await guard('mod_wsgi', () => checkModWsgi(binary)));
  checks.push(await guard('Python', () => checkPython(binary && linkedPython(binary))));
  checks.push(await guard('Django', () => checkDjango(inventory)));
  checks.push(await guard('pid file', () => checkPidFile(inventory.apache.pidFile, apache)));
  checks.push(await guard('signals', () => checkSignal(apache, processes, inventory.groups.map((g) => g.name))));
  checks.push(await guard('writable', () => checkWritable(inventory)));
  checks.push(await guard('daemon options', () => checkDaemonOptions(inventory, binary)));
  if (asRoot) checks.push(await guard('site access', () => checkSiteAccess(inventory)));
  checks.push(await guard('TLS', () => checkTls(inventory, apache)));
  return checks;
}
