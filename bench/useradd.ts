/**
 * `plexctl user add` on a live private Apache, until the new user's first request is served in
 * the right group: from spawning `plexctl user add NAME --group G --password-stdin` to the first
 * HTTP 200 whose body says group G, polling GET / with the user's Basic auth every 20 ms. Each add
 * goes to a ready group (empty, and its daemon has served nobody), so plexctl restarts nothing: it
 * writes the inventory, procmap.txt, then the password.
 *
 * The floor, measured alternately with the adds: Apache respawning a signalled daemon. SIGINT the
 * daemon of django1 directly and time until a request by django1's user succeeds from a new pid.
 */
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonPids, get, isAlive, pollUntil, readPid } from './lib/apache.js';
import { groupName, inventoryText } from './lib/inventory.js';
import { freePort, makeTempDir, median, plexctl, plexctlBin, removeDir, sleep, summarize, type Summary } from './lib/util.js';

/** When each step of one add became visible from outside, in ms after the spawn (medians in the result). */
export interface AddTimeline {
  /** The group's old daemon has exited (plexctl signalled it). */
  oldDaemonGone?: number;
  /** Apache has forked the new daemon. */
  newDaemonForked?: number;
  /** The new daemon runs its request threads (it imported settings and Django first). */
  newDaemonReady?: number;
  /** procmap.txt was rewritten. */
  procmapWritten?: number;
  /** user_file got the password. */
  passwordWritten?: number;
}

export interface UserAddResult {
  groups: number;
  adds: { user: string; group: string; firstRoutedMs: number; cliMs: number; cliExit: number | null; timeline: AddTimeline }[];
  /** Median of each timeline event over the adds. */
  timeline: Record<keyof AddTimeline, number>;
  firstRoutedMs: Summary;
  cliMs: Summary;
  respawns: { oldPid: number; newPid: number; ms: number }[];
  respawnMs: Summary;
}

const password = 'bench-pw';

export async function userAddBench(adds: number, floorReps: number): Promise<UserAddResult> {
  const groups = adds + 2;
  const dir = await makeTempDir('plexctl-bench-useradd-');
  const site = { dir, url: '' };
  const cli = (args: string[], input?: string) => plexctl(args, { cwd: dir, ...(input !== undefined ? { input } : {}) });
  try {
    await writeFile(
      join(dir, 'plex.yaml'),
      inventoryText({ users: 2, groups, served: true, explicitUsers: [['alice', groupName(1)], ['bob', groupName(2)]] }),
    );
    for (const user of ['alice', 'bob']) await cli(['user', 'passwd', user, '--password-stdin'], `${password}\n`);
    const port = await freePort();
    site.url = `http://127.0.0.1:${port}/`;
    await cli(['serve', '--detach', '--port', String(port)]);
    const parent = await readPid(join(dir, '.plexctl/serve/run/httpd.pid'));
    if (parent === undefined) throw new Error('serve --detach left no pid file');
    const first = await pollUntil(site.url, 'alice', password, (a) => a.status === 200, performance.now(), 30000);
    if (!first || first.answer.body?.group !== groupName(1)) throw new Error(`alice is not served by ${groupName(1)}: ${JSON.stringify(first?.answer)}`);

    const result: UserAddResult['adds'] = [];
    const respawns: UserAddResult['respawns'] = [];
    for (let i = 0; i < Math.max(adds, floorReps); i++) {
      if (i < adds) result.push(await addOne(dir, site.url, parent, `add${i + 3}`, groupName(i + 3)));
      if (i < floorReps) respawns.push(await respawnOne(site.url, parent));
    }
    return {
      groups,
      adds: result,
      firstRoutedMs: summarize(result.map((a) => a.firstRoutedMs)),
      cliMs: summarize(result.map((a) => a.cliMs)),
      timeline: Object.fromEntries(
        timelineKeys.map((k) => [k, median(result.flatMap((a) => (a.timeline[k] === undefined ? [] : [a.timeline[k]!])))]),
      ) as UserAddResult['timeline'],
      respawns,
      respawnMs: summarize(respawns.map((r) => r.ms)),
    };
  } finally {
    await cli(['serve', '--stop']).catch((error: unknown) => process.stderr.write(`bench: serve --stop failed: ${String(error)}\n`));
    await removeDir(dir);
  }
}

const timelineKeys: (keyof AddTimeline)[] = ['oldDaemonGone', 'newDaemonForked', 'newDaemonReady', 'procmapWritten', 'passwordWritten'];

const mtime = async (path: string) => (await stat(path).catch(() => undefined))?.mtimeMs ?? 0;

/** The children of `parent` whose argv[0] is `(wsgi:GROUP)`: cheap enough to poll every 10 ms. */
async function childDaemons(parent: number, group: string): Promise<number[]> {
  const children = (await readFile(`/proc/${parent}/task/${parent}/children`, 'utf8').catch(() => '')).trim().split(/\s+/).filter(Boolean).map(Number);
  const found: number[] = [];
  for (const pid of children) {
    const argv0 = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0')[0]!.trimEnd();
    if (argv0 === `(wsgi:${group})`) found.push(pid);
  }
  return found;
}

async function threads(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^Threads:\s+(\d+)$/m.exec(status)?.[1] ?? 0);
}

/** Watch the add from outside until stopped: the group's daemons, procmap.txt and user_file. */
function watchAdd(dir: string, parent: number, group: string, oldPids: number[], since: number) {
  const timeline: AddTimeline = {};
  const procmap = join(dir, 'build/wsgi/procmap.txt');
  const userFile = join(dir, 'build/htpasswd');
  let stopped = false;
  const done = (async () => {
    const procmap0 = await mtime(procmap);
    const userFile0 = await mtime(userFile);
    while (!stopped) {
      const at = performance.now() - since;
      if (timeline.oldDaemonGone === undefined && oldPids.some((p) => !isAlive(p))) timeline.oldDaemonGone = at;
      if (timeline.newDaemonReady === undefined) {
        const fresh = (await childDaemons(parent, group)).filter((p) => !oldPids.includes(p));
        if (fresh.length > 0) {
          timeline.newDaemonForked ??= at;
          if ((await threads(fresh[0]!)) > 1) timeline.newDaemonReady = at;
        }
      }
      if (timeline.procmapWritten === undefined && (await mtime(procmap)) !== procmap0) timeline.procmapWritten = at;
      if (timeline.passwordWritten === undefined && (await mtime(userFile)) !== userFile0) timeline.passwordWritten = at;
      await sleep(10);
    }
  })();
  return { timeline, stop: async () => ((stopped = true), await done) };
}

async function addOne(dir: string, url: string, parent: number, user: string, group: string): Promise<UserAddResult['adds'][number]> {
  const oldPids = await childDaemons(parent, group);
  const started = performance.now();
  const watcher = watchAdd(dir, parent, group, oldPids, started);
  const child = spawn(process.execPath, [plexctlBin, 'user', 'add', user, '--group', group, '--password-stdin'], {
    cwd: dir,
    env: { ...process.env, PLEXCTL_INVENTORY: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stdin.end(`${password}\n`);
  let cliMs = NaN;
  const exited = new Promise<number | null>((r) =>
    child.once('close', (code) => {
      cliMs = performance.now() - started;
      r(code);
    }),
  );
  const routed = await pollUntil(url, user, password, (a) => a.status === 200 && a.body?.group === group, started, 30000);
  const cliExit = await exited;
  await watcher.stop();
  if (!routed) throw new Error(`user add ${user} --group ${group}: no request served in ${group} within 30 s (exit ${cliExit}):\n${output}`);
  if (cliExit !== 0) throw new Error(`user add ${user} exited ${cliExit}:\n${output}`);
  return { user, group, firstRoutedMs: routed.ms, cliMs, cliExit, timeline: watcher.timeline };
}

async function respawnOne(url: string, parent: number): Promise<UserAddResult['respawns'][number]> {
  const group = groupName(1);
  const before = await get(url, 'alice', password);
  const [oldPid] = await daemonPids(parent, group);
  if (oldPid === undefined || before.body?.pid !== oldPid) throw new Error(`no ready daemon of ${group} (pids ${oldPid}, answer ${JSON.stringify(before)})`);
  const started = performance.now();
  process.kill(oldPid, 'SIGINT');
  const served = await pollUntil(
    url,
    'alice',
    password,
    (a) => a.status === 200 && a.body?.group === group && a.body.pid !== undefined && a.body.pid !== oldPid,
    started,
    30000,
  );
  if (!served) throw new Error(`${group} was not served again from a new pid within 30 s of SIGINT to ${oldPid}`);
  return { oldPid, newPid: served.answer.body!.pid!, ms: served.ms };
}
