/** Talking to a private Apache: requests with Basic auth, its daemons in /proc, starting and stopping. */
import { spawn } from 'node:child_process';
import { sleep } from './util.js';

export const apacheBinary = '/usr/sbin/apache2';
/** The environment plexctl gives Apache (src/apache/private-server.ts cleanEnv). */
export const apacheEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

export const basicAuth = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

export interface Answer {
  status: number;
  /** The demo view's JSON: group, pid, remote_user...; undefined for an Apache error page. */
  body?: { group?: string; pid?: number; remote_user?: string };
}

export async function get(url: string, user: string, password: string, timeoutMs = 5000): Promise<Answer> {
  try {
    const response = await fetch(url, { headers: { authorization: basicAuth(user, password) }, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    let body: Answer['body'];
    try {
      body = JSON.parse(text) as Answer['body'];
    } catch {
      body = undefined;
    }
    return { status: response.status, ...(body !== undefined ? { body } : {}) };
  } catch {
    return { status: 0 };
  }
}

/**
 * Poll GET / every `intervalMs` until `ok` holds; returns the time from `since` to the answer that
 * satisfied it (measured when that answer arrived), or undefined after `timeoutMs`.
 */
export async function pollUntil(
  url: string,
  user: string,
  password: string,
  ok: (a: Answer) => boolean,
  since: number,
  timeoutMs: number,
  intervalMs = 20,
): Promise<{ ms: number; answer: Answer } | undefined> {
  for (;;) {
    const sent = performance.now();
    const answer = await get(url, user, password, 2000);
    const now = performance.now();
    if (ok(answer)) return { ms: now - since, answer };
    if (now - since > timeoutMs) return undefined;
    await sleep(Math.max(0, intervalMs - (now - sent)));
  }
}

// The same helpers as plexctl and its tests use, so the bench measures what they do.
import { isAlive } from '../../src/apply/atomic-write.js';
import { readPid } from '../../src/apache/private-server.js';
export { daemonPids } from '../../test/helpers/e2e.js';
export { isAlive, readPid };

export async function runApache(conf: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(apacheBinary, ['-f', conf, ...args], { env: apacheEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const code = await new Promise<number | null>((r) => child.once('close', r));
  return { code, output };
}

/** Start an Apache from `conf` directly (the static baseline) and wait until `ready` answers. */
export async function startApache(conf: string, ready: () => Promise<boolean>, timeoutMs = 30000): Promise<void> {
  const started = await runApache(conf, ['-k', 'start']);
  if (started.code !== 0) throw new Error(`apache2 -f ${conf} -k start failed:\n${started.output}`);
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`the Apache of ${conf} did not answer within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

/** Stop the Apache of `conf` whose parent pid is in `pidFile`, and wait until it is gone. */
export async function stopApache(conf: string, pidFile: string, timeoutMs = 20000): Promise<void> {
  const pid = await readPid(pidFile);
  if (pid === undefined || !isAlive(pid)) return;
  await runApache(conf, ['-k', 'stop']);
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      await sleep(500);
      return;
    }
    await sleep(100);
  }
}
