/**
 * Helpers for end-to-end tests through a real Apache + mod_wsgi + Django, started by the test
 * itself on 127.0.0.1. A live suite is declared with describeLive: skipped, with the reason, when
 * Apache, mod_wsgi or Django is missing, and failed instead under CI=true.
 */
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, type SuiteContext, type TestContext, type TestOptions } from 'node:test';
import { execa } from 'execa';
import { findMissing, type Missing } from '../../src/apache/prerequisites.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const demoSite = join(repoRoot, 'examples', 'demo', 'site');
const bin = join(repoRoot, 'bin', 'plexctl.js');

/** What to do with a live suite or test: run it, skip it (saying why), or fail it (saying what is missing). */
export type LiveDecision = { action: 'run' } | { action: 'skip'; reason: string } | { action: 'fail'; reason: string };

/** The decision, from what findMissing() reported and whether this is CI (CI=true), where a missing server is a failure. */
export function liveDecision(missing: readonly Pick<Missing, 'what'>[], ci: boolean): LiveDecision {
  if (missing.length === 0) return { action: 'run' };
  const what = missing.map((m) => m.what).join(', ');
  if (ci) return { action: 'fail', reason: `end-to-end tests need ${what}; CI must install them (.ci/run)` };
  return { action: 'skip', reason: `not installed: ${what}` };
}

let prerequisites: Promise<Missing[]> | undefined;
/** findMissing() once per test file: it runs Python to import Django. */
const missingOnce = () => (prerequisites ??= findMissing());
const onCi = () => process.env.CI === 'true';

/**
 * A suite that needs a real Apache, mod_wsgi and Django. Use it at the top level of a test file
 * with `await`: whether the suite runs is known before it is declared (node:test can skip a
 * suite only when declaring it). Missing prerequisites skip it with the reason, or under CI=true
 * replace its tests by one failing test that names what is missing; its hooks then never run.
 */
export async function describeLive(name: string, options: TestOptions, fn: SuiteFn): Promise<void> {
  declareLive(liveDecision(await missingOnce(), onCi()), name, options, fn);
}

type SuiteFn = (suite: SuiteContext) => void | Promise<void>;

/** describeLive once the decision is made (exported for its test). */
export function declareLive(decision: LiveDecision, name: string, options: TestOptions, fn: SuiteFn): void {
  if (decision.action === 'run') describe(name, options, fn);
  else if (decision.action === 'skip') describe(name, { ...options, skip: decision.reason }, fn);
  else {
    const reason = decision.reason;
    describe(name, options, () => {
      it('has Apache, mod_wsgi and Django installed', () => {
        throw new Error(reason);
      });
    });
  }
}

/** For a single live test (not a suite): skip it (or, under CI, fail) when the server is missing. */
export async function requireApache(t: TestContext): Promise<boolean> {
  const decision = liveDecision(await missingOnce(), onCi());
  if (decision.action === 'fail') throw new Error(decision.reason);
  if (decision.action === 'skip') t.skip(decision.reason);
  return decision.action === 'run';
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** A temp directory Apache's user can read (mkdtemp makes 0700). */
export async function makeTempDir(prefix = 'plexctl-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function plexctl(args: string[], options: { cwd: string; input?: string; env?: Record<string, string> }): Promise<CliResult> {
  const result = await execa(process.execPath, [bin, ...args], {
    cwd: options.cwd,
    input: options.input ?? '',
    reject: false,
    env: { PLEXCTL_INVENTORY: '', ...options.env },
  });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export interface SiteSpec {
  groups: Record<string, { env?: Record<string, string>; settings?: Record<string, unknown>; daemon?: Record<string, unknown> }>;
  users: Record<string, string>;
  /** Extra top-level YAML appended verbatim. */
  extra?: string;
  /** apache.map (default txt). */
  map?: 'txt' | 'dbm';
  /** Extra `apache:` lines, indented by two spaces (`  auth: form\n`). */
  apache?: string;
  /** Another Django site than the demo: site.python_path (absolute directories) and site.settings_module. */
  site?: { pythonPath: string[]; settingsModule: string };
}

/**
 * Test files run in parallel and share group names: each test process gets accounts of its own
 * (as root, plexctl creates PREFIX+GROUP; npm test's run-suite removes them afterwards).
 */
export const testAccountPrefix = `t${process.pid.toString(36)}-`;

/** A demo-site inventory (or spec.site's) in a fresh directory, served by a private Apache at `serve`. */
export function inventoryYaml(spec: SiteSpec): string {
  const groups = Object.entries(spec.groups)
    .map(([name, g]) => `  ${name}:\n${g.env ? `    env: ${JSON.stringify(g.env)}\n` : ''}${g.settings ? `    settings: ${JSON.stringify(g.settings)}\n` : ''}${g.daemon ? `    daemon: ${JSON.stringify(g.daemon)}\n` : ''}`)
    .join('');
  const users = Object.entries(spec.users)
    .map(([u, g]) => `  ${u}: ${g}\n`)
    .join('');
  // The comment shares site's line: the account prefix takes the line it had, so every line
  // number stays as the tests know it.
  return `site:  # test inventory
  account_prefix: ${testAccountPrefix}
  mount: /
  python_path: [${(spec.site?.pythonPath ?? [demoSite]).map((p) => JSON.stringify(p)).join(', ')}]
  settings_module: ${spec.site?.settingsModule ?? 'demo.settings'}
apache:
  conf_file: build/plex.conf
  wsgi_dir: build/wsgi
  user_file: build/htpasswd
  realm: "plex test"
  pid_file: .plexctl/serve/run/httpd.pid
  ctl: [/usr/sbin/apache2, -f, .plexctl/serve/httpd.conf]
${spec.map ? `  map: ${spec.map}\n` : ''}${spec.apache ?? ''}defaults:
  processes: 1
  threads: 3
groups:
${groups}users:${users ? `\n${users}` : ' {}\n'}${spec.extra ?? ''}`;
}

export interface Site {
  dir: string;
  port: number;
  url: string;
  cli(args: string[], input?: string): Promise<CliResult>;
  /** GET / as `user` (password `<user>-pw` unless given); undefined user sends no credentials. */
  get(user?: string, password?: string): Promise<{ status: number; body: any }>;
  parentPid(): Promise<number>;
  stop(): Promise<void>;
}

export async function startSite(spec: SiteSpec, passwords: string[] = Object.keys(spec.users)): Promise<Site> {
  const dir = await makeTempDir();
  await writeFile(join(dir, 'plex.yaml'), inventoryYaml(spec));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const cli = (args: string[], input?: string) => plexctl(args, { cwd: dir, ...(input !== undefined ? { input } : {}) });
  for (const user of passwords) {
    const r = await cli(['user', 'passwd', user, '--password-stdin'], `${user}-pw\n`);
    if (r.exitCode !== 0) throw new Error(`user passwd ${user} failed: ${r.stderr}`);
  }
  const served = await cli(['serve', '--detach', '--port', String(port)]);
  if (served.exitCode !== 0) throw new Error(`serve failed (${served.exitCode}): ${served.stderr}${served.stdout}`);
  return {
    dir,
    port,
    url,
    cli,
    get: (user, password) => httpGet(url, user, password ?? `${user}-pw`),
    parentPid: async () => Number((await readFile(join(dir, '.plexctl/serve/run/httpd.pid'), 'utf8')).trim()),
    async stop() {
      await cli(['serve', '--stop']);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function httpGet(url: string, user?: string, password?: string): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (user !== undefined) headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(20000) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON: an Apache error page */
  }
  return { status: response.status, body };
}

/** PIDs of the daemons whose argv[0] is exactly `(wsgi:GROUP)`, read from /proc. */
export async function daemonPids(parentPid: number, group: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    if (!new RegExp(`^PPid:\\s+${parentPid}$`, 'm').test(status)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0')[0]!.trimEnd() === `(wsgi:${group})`) pids.push(Number(entry));
  }
  return pids.sort((a, b) => a - b);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `check` until it returns a value, or throw after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
