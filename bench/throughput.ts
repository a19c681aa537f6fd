/**
 * Request throughput with wrk on 127.0.0.1: one user (Basic auth) over 8 connections, on private
 * Apaches that share one configuration (plexctl serve's httpd.conf: event MPM with its compiled-in
 * defaults, the same modules) and the same groups (10 groups, processes 1, threads 5):
 *
 *   static      the rendered plex.conf with the per-directory rewrite lines (RewriteEngine,
 *               RewriteRule, RewriteCond) and the RewriteMap removed and
 *               `WSGIProcessGroup %{ENV:PLEXCTL_GROUP}` replaced by `WSGIProcessGroup django1`
 *               (staticConfig() below; written under <site>/bench-static/);
 *   txt 10      plexctl's routing, procmap.txt of the 10-user inventory;
 *   txt 100k    the same server with procmap.txt replaced by the 100k-user map;
 *   dbm 10      apache.map: dbm, 10 users;
 *   dbm 100k    the same server with procmap.dbm replaced by the 100k-user map.
 *
 * The three servers run side by side and the scenarios are measured in rounds, each round in a
 * rotated order, so that every scenario sees the same machine load; a scenario's ratio to static
 * is the median over rounds of (its req/s / static's req/s in the same round).
 *
 * The measured user is user099999: the last line of the 100k map (the slow case of a txt map's
 * linear scan), in django1 like the static baseline. The 100k map is the text `plexctl render`
 * writes for the 100k-user inventory, made here (run.ts compares it with the real render's
 * procmap.txt when that render finishes: mapMatchesRender); its DBM is built with httxt2dbm into a
 * new file renamed into place, as plexctl does (src/apply/dbm-map.ts). Swapping maps under a
 * running 10-user site stands in for serving the 100k inventory, whose render takes minutes today
 * (see README.md, Performance).
 */
import { spawn } from 'node:child_process';
import { Agent, get as httpGet } from 'node:http';
import { chmod, copyFile, mkdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { get, startApache, stopApache } from './lib/apache.js';
import { groupName, inventoryText, procmapText, userName } from './lib/inventory.js';
import { freePort, makeTempDir, median, plexctl, removeDir, sleep } from './lib/util.js';

export interface WrkRun {
  requestsPerSec: number;
  requests: number;
  non2xx: number;
  socketErrors: string;
  latencyAvgMs: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

export interface ScenarioResult {
  scenario: string;
  /** Median, min and max over the rounds. */
  requestsPerSec: number;
  minRequestsPerSec: number;
  maxRequestsPerSec: number;
  samples: number[];
  /** Median over rounds of this scenario's req/s divided by static's in the same round. */
  ratioToStatic: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Responses that were not 2xx, over all rounds. */
  non2xx: number;
  /** One request right after the map's mtime changed (every Apache child's cache of the map is void). */
  coldLookupMs?: number;
  /** The same request once the lookup is cached. */
  warmMs?: number;
  /** req/s of an authenticated user with no map entry (403, never reaches Django). */
  missRequestsPerSec?: number;
}

export interface ThroughputResult {
  wrk: string;
  rounds: number;
  user: string;
  groups: number;
  mapUsers: number;
  mapSource: string;
  /** Set by run.ts when the 100k render finished: the map used here is byte for byte plexctl's. */
  mapMatchesRender?: boolean;
  runs: ScenarioResult[];
  notes: string[];
}

export interface ThroughputOptions {
  durationS: number;
  rounds: number;
  mapUsers: number;
}

const groups = 10;
const password = 'bench-pw';
const missUser = 'nomap';
export const staticScenario = 'static WSGIProcessGroup django1';

interface Site {
  dir: string;
  port: number;
  url: string;
  cli: (args: string[], input?: string) => ReturnType<typeof plexctl>;
}

interface Scenario {
  name: string;
  site: Site;
  /** Put the scenario's map in place (a no-op when it already is). */
  prepare: () => Promise<void>;
  extra: Partial<ScenarioResult>;
  runs: WrkRun[];
  /** A session cookie (form login) sent instead of Basic credentials. */
  cookie?: string;
}

export async function throughputBench(options: ThroughputOptions): Promise<ThroughputResult> {
  const big = options.mapUsers;
  const bigLabel = big % 1000 === 0 ? `${big / 1000}k` : String(big);
  const benchUser = userName(big - 1);
  // The 10 users: the measured one and 9 others, each in the group the big inventory gives it.
  const few = [big - 1, ...Array.from({ length: 9 }, (_, i) => i)];
  const notes: string[] = [];
  const sites: Site[] = [];
  const stops: (() => Promise<unknown>)[] = [];

  const newSite = async (name: string, map: 'txt' | 'dbm', missEntry: boolean, auth: 'basic' | 'form' = 'basic'): Promise<Site> => {
    const dir = await makeTempDir(`plexctl-bench-wrk-${name}-`);
    const port = await freePort();
    const site: Site = { dir, port, url: `http://127.0.0.1:${port}/`, cli: (args, input) => plexctl(args, { cwd: dir, ...(input !== undefined ? { input } : {}) }) };
    sites.push(site);
    await writeFile(join(dir, 'plex.yaml'), inventoryText({ users: big, groups, only: few, served: true, map, auth }));
    await site.cli(['user', 'passwd', benchUser, '--password-stdin'], `${password}\n`);
    // plexctl refuses a password for a user outside the inventory: the unmapped user of the miss
    // runs is added with Apache's htpasswd itself.
    if (missEntry) await run('/usr/bin/htpasswd', ['-b', '-B', join(dir, 'build/htpasswd'), missUser, password]);
    stops.push(() => site.cli(['serve', '--stop']));
    await site.cli(['serve', '--detach', '--port', String(port)]);
    if (auth === 'basic') await expectDjango1(site.url, benchUser, `${name}: serve`);
    return site;
  };

  try {
    // The text plexctl renders for the big inventory (checked against a real render by run.ts).
    const bigMap = procmapText(big, groups, '/tmp/plex.yaml');
    const mapSource = `procmap.txt in plexctl's format for the ${bigLabel}-user inventory, made by bench/`;
    if (!bigMap.includes(`\n${benchUser} ${groupName(1)}\n`)) throw new Error(`the ${bigLabel}-user map does not put ${benchUser} in ${groupName(1)}`);

    // The static baseline: what plexctl serves for this inventory, without the routing.
    const staticSite = await newSite('static', 'txt', false);
    await staticSite.cli(['serve', '--stop']);
    const staticConf = await staticConfig(staticSite.dir, join(staticSite.dir, 'bench-static'));
    const staticPid = join(staticSite.dir, '.plexctl/serve/run/httpd.pid');
    stops.push(() => stopApache(staticConf, staticPid));
    await startApache(staticConf, async () => (await get(staticSite.url, benchUser, password)).body?.group === groupName(1));

    const txt = await newSite('txt', 'txt', true);
    const dbm = await newSite('dbm', 'dbm', true);
    const txtMap = join(txt.dir, 'build/wsgi/procmap.txt');
    const dbmMap = join(dbm.dir, 'build/wsgi/procmap.dbm');
    // Each map version is kept beside the live one and swapped in (new file renamed into place).
    const txtSmall = `${txtMap}.bench-10`;
    const txtBig = `${txtMap}.bench-big`;
    const dbmSmall = `${dbmMap}.bench-10`;
    const dbmBig = `${dbmMap}.bench-big`;
    await copyFile(txtMap, txtSmall);
    await writeFile(txtBig, bigMap, { mode: 0o644 });
    await copyFile(dbmMap, dbmSmall);
    await buildDbm(dbmBig, bigMap);
    const current = new Map<string, string>([[txtMap, txtSmall], [dbmMap, dbmSmall]]);
    const use = (site: Site, live: string, version: string) => async () => {
      if (current.get(live) === version) return;
      await swapIn(version, live);
      current.set(live, version);
      await expectDjango1(site.url, benchUser, `${live} <- ${version}`);
    };

    // Form login: the same txt-map site with apache.auth: form, measured with a session cookie
    // (mod_session_crypto decrypts it and the user is checked against user_file on every request).
    const form = await newSite('form', 'txt', false, 'form');
    const formCookie = await sessionCookie(form.url, benchUser);

    const scenarios: Scenario[] = [
      { name: staticScenario, site: staticSite, prepare: async () => undefined, extra: {}, runs: [] },
      { name: 'plexctl routing, 10 users, txt map', site: txt, prepare: use(txt, txtMap, txtSmall), extra: {}, runs: [] },
      { name: `plexctl routing, ${bigLabel} users, txt map`, site: txt, prepare: use(txt, txtMap, txtBig), extra: {}, runs: [] },
      { name: 'plexctl routing, 10 users, dbm map', site: dbm, prepare: use(dbm, dbmMap, dbmSmall), extra: {}, runs: [] },
      { name: `plexctl routing, ${bigLabel} users, dbm map`, site: dbm, prepare: use(dbm, dbmMap, dbmBig), extra: {}, runs: [] },
      { name: 'plexctl routing, 10 users, txt map, form login', site: form, prepare: async () => undefined, extra: {}, runs: [], cookie: formCookie },
    ];

    // Lookup cost and misses, once per routed scenario.
    for (const s of scenarios.slice(1)) {
      if (s.cookie !== undefined) continue; // lookup cost and misses are measured with Basic auth
      await s.prepare();
      const live = s.site === txt ? txtMap : dbmMap;
      const lookup = await lookupCost(s.site.url, benchUser, live);
      const refused = await get(s.site.url, missUser, password);
      if (refused.status !== 403) throw new Error(`${s.name}: the unmapped user ${missUser} got ${refused.status}, not 403`);
      const miss = await wrk(s.site.url, missUser, 2);
      s.extra = { ...lookup, missRequestsPerSec: miss.requestsPerSec };
    }

    // The rounds: every scenario once per round, the order rotated each round.
    for (let round = 0; round < options.rounds; round++) {
      for (let k = 0; k < scenarios.length; k++) {
        const s = scenarios[(k + round) % scenarios.length]!;
        await s.prepare();
        await wrk(s.site.url, s.cookie ?? benchUser, 1); // warm-up: every Apache child has looked the user up
        s.runs.push(await wrk(s.site.url, s.cookie ?? benchUser, options.durationS));
      }
    }

    const base = scenarios[0]!.runs;
    const runs: ScenarioResult[] = scenarios.map((s) => {
      const rps = s.runs.map((r) => r.requestsPerSec);
      return {
        scenario: s.name,
        requestsPerSec: median(rps),
        minRequestsPerSec: Math.min(...rps),
        maxRequestsPerSec: Math.max(...rps),
        samples: rps.map((x) => Math.round(x)),
        ratioToStatic: median(s.runs.map((r, i) => r.requestsPerSec / base[i]!.requestsPerSec)),
        latencyP50Ms: median(s.runs.map((r) => r.latencyP50Ms)),
        latencyP99Ms: median(s.runs.map((r) => r.latencyP99Ms)),
        non2xx: s.runs.reduce((n, r) => n + r.non2xx, 0),
        ...s.extra,
      };
    });
    for (const r of runs) if (r.non2xx > 0) notes.push(`${r.scenario}: ${r.non2xx} non-2xx responses: the figure is not valid`);
    return {
      wrk: `wrk -t2 -c8 -d${options.durationS}s --latency -H 'Authorization: Basic ...' after a 1 s warm-up`,
      rounds: options.rounds,
      user: benchUser,
      groups,
      mapUsers: big,
      mapSource,
      runs,
      notes,
    };
  } finally {
    // Whatever failed above: no Apache started here may be left running.
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => process.stderr.write(`bench: stopping an Apache: ${String(error)}\n`));
    for (const site of sites) await removeDir(site.dir);
  }
}

/** Log in through the login page (apache.auth: form) and return the session cookie, once the user is served by group 1. */
async function sessionCookie(url: string, user: string): Promise<string> {
  for (let i = 0; i < 150; i++) {
    const login = await fetch(`${url}_plex/login?r=/`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ httpd_username: user, httpd_password: password }).toString(),
    }).catch(() => undefined);
    const cookie = login?.headers.getSetCookie().find((c) => c.startsWith('plexsess='))?.split(';')[0];
    if (cookie) {
      const page = await fetch(url, { headers: { cookie }, redirect: 'manual' }).catch(() => undefined);
      const body = page && page.status === 200 ? ((await page.json()) as { group?: string }) : undefined;
      if (body?.group === groupName(1)) return cookie;
    }
    await sleep(100);
  }
  throw new Error(`form login as ${user} at ${url} did not reach ${groupName(1)}`);
}

async function expectDjango1(url: string, user: string, what: string): Promise<void> {
  let answer = await get(url, user, password);
  for (let i = 0; i < 150 && answer.status !== 200; i++) {
    await sleep(100);
    answer = await get(url, user, password);
  }
  if (answer.status !== 200 || answer.body?.group !== groupName(1)) throw new Error(`${what}: ${user} is not served by ${groupName(1)}: ${JSON.stringify(answer)}`);
}

/**
 * The static baseline, derived from what plexctl rendered and served: plex.conf without the
 * per-directory rewrite lines and the RewriteMap, with a fixed WSGIProcessGroup; httpd.conf with
 * its Include pointing there. Everything else (modules, MPM, auth, groups, port) is the same.
 */
export async function staticConfig(siteDir: string, outDir: string): Promise<string> {
  const servedConf = await readFile(join(siteDir, '.plexctl/serve/httpd.conf'), 'utf8');
  const fragment = await readFile(join(siteDir, 'build/plex.conf'), 'utf8');
  let removed = 0;
  let replaced = 0;
  const lines = fragment.split('\n').flatMap((line) => {
    if (/^\s*(RewriteEngine|RewriteRule|RewriteCond|RewriteMap)\s/.test(line)) {
      removed++;
      return [];
    }
    if (/^\s*WSGIProcessGroup %\{ENV:PLEXCTL_GROUP\}\s*$/.test(line)) {
      replaced++;
      return [line.replace('%{ENV:PLEXCTL_GROUP}', groupName(1))];
    }
    return [line];
  });
  // RewriteMap, RewriteEngine, 3 RewriteRule, 2 RewriteCond (routing, and the 503 of an instance
  // not initialised); one WSGIProcessGroup.
  if (removed !== 7 || replaced !== 1) {
    throw new Error(`bench: plex.conf no longer has the expected rewrite lines (removed ${removed}, replaced ${replaced}); update staticConfig in bench/throughput.ts`);
  }
  await mkdir(outDir, { recursive: true });
  const staticFragment = join(outDir, 'plex-static.conf');
  await writeFile(staticFragment, `# bench/throughput.ts: plex.conf with a fixed WSGIProcessGroup, no mod_rewrite\n${lines.join('\n')}`);
  const includes = servedConf.split('\n').filter((l) => l.startsWith('Include '));
  if (includes.length !== 1) throw new Error(`bench: expected one Include in plexctl serve's httpd.conf, found ${includes.length}`);
  const conf = join(outDir, 'httpd.conf');
  await writeFile(conf, servedConf.replace(includes[0]!, `Include ${JSON.stringify(staticFragment)}`));
  return conf;
}

/** Copy `version` over `live` the way plexctl writes (a new file renamed into place), with a fresh mtime. */
async function swapIn(version: string, live: string): Promise<void> {
  const tmp = `${live}.bench-tmp`;
  await copyFile(version, tmp);
  await chmod(tmp, 0o644);
  await rename(tmp, live);
  await bumpMtime(live);
}

let mtimeBump = 0;
/** Apache re-reads a map, and drops its cached lookups, when the map's mtime changes. */
async function bumpMtime(path: string): Promise<void> {
  const t = new Date(Date.now() + ++mtimeBump * 2000);
  await utimes(path, t, t);
}

/** httxt2dbm into a new file renamed into place, as src/apply/dbm-map.ts does. */
async function buildDbm(dbmPath: string, text: string): Promise<void> {
  const source = `${dbmPath}.src`;
  const built = `${dbmPath}.new`;
  await writeFile(source, text, { mode: 0o600 });
  try {
    await run('/usr/sbin/httxt2dbm', ['-i', source, '-o', built]);
    await chmod(built, 0o644);
    await rename(built, dbmPath);
  } finally {
    await rm(source, { force: true });
    await rm(built, { force: true });
  }
}

/**
 * The cost of one lookup: a request right after the map's mtime changed (the Apache child that
 * takes it re-opens the map; for txt, a linear scan to the user's line), against the same request
 * once cached, both on one kept-alive socket (so the same Apache child). The best of 9 of
 * each: the minimum is the figure least disturbed by other load on the machine.
 */
async function lookupCost(url: string, user: string, mapPath: string): Promise<{ coldLookupMs: number; warmMs: number }> {
  // One socket, kept alive: every request goes to the same Apache child.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const cold: number[] = [];
    const warm: number[] = [];
    await timedGet(agent, url, user); // opens the connection
    for (let i = 0; i < 9; i++) {
      await bumpMtime(mapPath);
      cold.push(await timedGet(agent, url, user));
      warm.push(await timedGet(agent, url, user));
    }
    return { coldLookupMs: Math.min(...cold), warmMs: Math.min(...warm) };
  } finally {
    agent.destroy();
  }
}

function timedGet(agent: Agent, url: string, user: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolveGet, reject) => {
    const req = httpGet(url, { agent, headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` }, timeout: 10000 }, (res) => {
      res.resume();
      res.once('end', () => (res.statusCode === 200 ? resolveGet(performance.now() - started) : reject(new Error(`GET as ${user}: ${res.statusCode}`))));
    });
    req.once('timeout', () => req.destroy(new Error(`GET as ${user}: timed out`)));
    req.once('error', reject);
  });
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolveRun(output) : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output}`))));
  });
}

/** `user` is a user name (Basic auth) or a `plexsess=...` session cookie (form login). */
async function wrk(url: string, user: string, seconds: number): Promise<WrkRun> {
  const header = user.startsWith('plexsess=') ? `Cookie: ${user}` : `Authorization: Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const output = await run('wrk', [
    '-t2',
    '-c8',
    `-d${seconds}s`,
    '--latency',
    '--timeout',
    '10s',
    '-H',
    header,
    url,
  ]);
  const num = (re: RegExp) => Number(re.exec(output)?.[1] ?? NaN);
  const ms = (re: RegExp) => {
    const m = re.exec(output);
    if (!m) return NaN;
    const unit = m[2];
    return Number(m[1]) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : unit === 'm' ? 60000 : 1);
  };
  const non2xx = num(/Non-2xx or 3xx responses:\s+(\d+)/);
  return {
    requestsPerSec: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in/),
    non2xx: Number.isNaN(non2xx) ? 0 : non2xx,
    socketErrors: /Socket errors:[^\n]*/.exec(output)?.[0] ?? '',
    latencyAvgMs: ms(/Latency\s+([\d.]+)(us|ms|s|m)\b/),
    latencyP50Ms: ms(/50%\s+([\d.]+)(us|ms|s|m)\b/),
    latencyP99Ms: ms(/99%\s+([\d.]+)(us|ms|s|m)\b/),
  };
}
