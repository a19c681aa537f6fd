/**
 * Isolation soak: thousands of requests from random users (seeded) against a live private Apache
 * while `user add`, `user remove`, `user move` and `reconcile` change the mapping alongside. Every
 * 200 must come from the group the user was mapped to at that moment (or just before a change in
 * progress); unmapped users and wrong passwords never get a 200; no request runs in embedded mode;
 * no request fails with a 5xx.
 *
 * PLEXCTL_SOAK_SEED picks another seed.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, it } from 'node:test';
import { execa } from 'execa';
import { setUserGroup } from '../src/inventory/edit.js';
import { validateInventoryText } from '../src/inventory/validate.js';
import { parseHtpasswd } from '../src/apache/htpasswd.js';
import { describeLive, httpGet, startSite, type Site, type SiteSpec } from './helpers/e2e.js';
import { describeRun, prng, runPlexctl } from './helpers/hostile.js';

const seed = Number(process.env.PLEXCTL_SOAK_SEED ?? 4242);
const concurrency = 4;
const minRequests = 3000;
const maxRequests = 12_000;
const maxMs = 120_000;

const spec: SiteSpec = {
  groups: {
    g1: { settings: { GREETING: 'g1' } },
    g2: { settings: { GREETING: 'g2' } },
    g3: { settings: { GREETING: 'g3' } },
    g4: { settings: { GREETING: 'g4' } },
    g5: { settings: { GREETING: 'g5' } }, // empty at first: an add to it restarts it
  },
  users: { u1: 'g1', u2: 'g1', u3: 'g2', u4: 'g2', u5: 'g3', u6: 'g3', u7: 'g4', u8: 'g4' },
};
const unmapped = ['x1', 'x2']; // in user_file, not in the inventory: 403 (401 once reconcile drops them)
const newcomers = ['n1', 'n2', 'n3'];
const everyone = [...Object.keys(spec.users), ...unmapped, ...newcomers];
const passwordOf = (user: string) => `${user}-pw`;

interface State {
  map: Map<string, string>;
  passwords: Set<string>;
}
interface Change {
  what: string;
  start: number;
  end: number;
  before: State;
  after: State;
}
interface Sample {
  user: string;
  wrong: boolean;
  start: number;
  end: number;
  status: number;
  group?: unknown;
  remoteUser?: unknown;
  greeting?: unknown;
  uid?: unknown;
  error?: string;
}

const cloneState = (s: State): State => ({ map: new Map(s.map), passwords: new Set(s.passwords) });
const describeState = (s: State) => `map {${[...s.map].map(([u, g]) => `${u}:${g}`).join(' ')}} passwords {${[...s.passwords].sort().join(' ')}}`;

await describeLive('isolation soak: routing stays right while users change', { timeout: 300_000 }, () => {
  let site: Site | undefined;
  const file = () => join(site!.dir, 'plex.yaml');
  const userFile = () => join(site!.dir, 'build', 'htpasswd');

  /** The state on disk: the inventory's map and user_file's entries. */
  async function actualState(): Promise<State> {
    const v = validateInventoryText(file(), await readFile(file(), 'utf8'));
    assert.deepEqual(v.problems, []);
    const passwords = parseHtpasswd(await readFile(userFile(), 'utf8')).users;
    return { map: new Map(v.inventory!.users.map((u) => [u.user, u.group])), passwords: new Set(passwords.keys()) };
  }

  before(async () => {
    site = await startSite(spec);
    let text = await readFile(userFile(), 'utf8');
    for (const user of unmapped) {
      const r = await execa('/usr/bin/htpasswd', ['-n', '-i', '-B', user], { input: passwordOf(user) });
      text += `${r.stdout.split('\n')[0]}\n`;
    }
    await writeFile(userFile(), text);
  });
  after(async () => site?.stop());

  it(`${minRequests}+ requests from random users at concurrency ${concurrency} while the mapping changes`, async (t) => {
    if (!site) return t.skip('no Apache');
    const random = prng(seed); // who asks, and with which password
    const pause = prng(seed + 1); // the pauses between changes
    const greetings: Record<string, Set<string>> = Object.fromEntries(Object.keys(spec.groups).map((g) => [g, new Set([g])]));
    let state = await actualState();
    const initial = cloneState(state);
    for (const u of unmapped) assert.ok(state.passwords.has(u) && !state.map.has(u));

    const changes: Change[] = [];
    const problems: string[] = [];
    const samples: Sample[] = [];
    const t0 = performance.now();

    // The changes, one after another; each knows how it changes the model.
    type Step = { what: string; args?: string[]; input?: string; edit?: (text: string) => string; apply: (s: State) => void };
    const steps: Step[] = [
      { what: 'user add n1 --group g2', args: ['user', 'add', 'n1', '--group', 'g2', '--password-stdin'], input: `${passwordOf('n1')}\n`, apply: (s) => (s.map.set('n1', 'g2'), s.passwords.add('n1')) },
      { what: 'user move u1 --group g3', args: ['user', 'move', 'u1', '--group', 'g3'], apply: (s) => s.map.set('u1', 'g3') },
      { what: 'user remove u2', args: ['user', 'remove', 'u2'], apply: (s) => (s.map.delete('u2'), s.passwords.delete('u2')) },
      {
        what: 'reconcile: u3 -> g4, g1 settings change, unmapped entries dropped',
        edit: (text) => setUserGroup(text, 'u3', 'g4').replace('{"GREETING":"g1"}', '{"GREETING":"g1 v2"}'),
        apply: (s) => {
          s.map.set('u3', 'g4');
          greetings.g1!.add('g1 v2');
          for (const u of [...s.passwords]) if (!s.map.has(u)) s.passwords.delete(u);
        },
      },
      { what: 'user move n1 --group g1', args: ['user', 'move', 'n1', '--group', 'g1'], apply: (s) => s.map.set('n1', 'g1') },
      { what: 'user add n2 (to the empty group g5)', args: ['user', 'add', 'n2', '--password-stdin'], input: `${passwordOf('n2')}\n`, apply: (s) => (s.map.set('n2', 'g5'), s.passwords.add('n2')) },
      { what: 'user remove u5', args: ['user', 'remove', 'u5'], apply: (s) => (s.map.delete('u5'), s.passwords.delete('u5')) },
      { what: 'reconcile: u4 -> g3', edit: (text) => setUserGroup(text, 'u4', 'g3'), apply: (s) => s.map.set('u4', 'g3') },
      { what: 'user add n3 --group g4', args: ['user', 'add', 'n3', '--group', 'g4', '--password-stdin'], input: `${passwordOf('n3')}\n`, apply: (s) => (s.map.set('n3', 'g4'), s.passwords.add('n3')) },
      { what: 'user move u6 --group g5', args: ['user', 'move', 'u6', '--group', 'g5'], apply: (s) => s.map.set('u6', 'g5') },
      { what: 'user remove n2', args: ['user', 'remove', 'n2'], apply: (s) => (s.map.delete('n2'), s.passwords.delete('n2')) },
    ];

    let changesDone = false;
    const changer = (async () => {
      try {
        for (const step of steps) {
          await new Promise((r) => setTimeout(r, 300 + pause() * 700)); // let traffic see each state
          const beforeState = cloneState(state);
          const afterState = cloneState(state);
          step.apply(afterState);
          if (step.edit) await writeFile(file(), step.edit(await readFile(file(), 'utf8')));
          const start = performance.now();
          const r = await runPlexctl(site!.dir, step.args ?? ['reconcile'], step.input ?? '', 60_000);
          const end = performance.now();
          changes.push({ what: step.what, start, end, before: beforeState, after: afterState });
          if (r.code !== 0) {
            problems.push(`${step.what}: ${describeRun(r)}`);
            break;
          }
          const actual = await actualState();
          if (describeState(actual) !== describeState(afterState)) {
            problems.push(`${step.what}: the server's state is not the expected one:\n  actual   ${describeState(actual)}\n  expected ${describeState(afterState)}`);
            break;
          }
          state = afterState;
        }
      } finally {
        changesDone = true;
      }
    })();

    let sent = 0;
    const deadline = t0 + maxMs;
    const worker = async () => {
      while (sent < maxRequests && performance.now() < deadline && !(changesDone && sent >= minRequests)) {
        sent++;
        const user = everyone[Math.floor(random() * everyone.length)]!;
        const wrong = random() < 0.15;
        const start = performance.now();
        try {
          const r = await httpGet(site!.url, user, wrong ? `${passwordOf(user)}-wrong` : passwordOf(user));
          const body = typeof r.body === 'object' && r.body !== null ? r.body : {};
          samples.push({ user, wrong, start, end: performance.now(), status: r.status, group: body.group, remoteUser: body.remote_user, greeting: body.settings?.GREETING, uid: body.uid });
        } catch (error) {
          samples.push({ user, wrong, start, end: performance.now(), status: 0, error: (error as Error).message });
        }
      }
    };
    await Promise.all([changer, ...Array.from({ length: concurrency }, worker)]);
    const elapsed = performance.now() - t0;

    // The states, each valid from the start of the change that made it to the end of the next one.
    const states = [
      { state: initial, from: -Infinity, to: changes[0]?.end ?? Infinity, label: 'initial' },
      ...changes.map((c, i) => ({ state: c.after, from: c.start, to: changes[i + 1]?.end ?? Infinity, label: `after ${c.what}` })),
    ];
    const counts: Record<string, number> = {};
    const uidOfGroup = new Map<string, number>();
    const groupOfUid = new Map<number, string>();
    for (const s of samples) {
      const key = String(s.status);
      counts[key] = (counts[key] ?? 0) + 1;
      const at = `${s.user}${s.wrong ? ' (wrong password)' : ''} at ${Math.round(s.start - t0)}-${Math.round(s.end - t0)} ms`;
      if (s.status === 0 || s.status >= 500) {
        problems.push(`${at}: ${s.status === 0 ? `request failed: ${s.error}` : `${s.status}`}`);
        continue;
      }
      if (s.wrong) {
        if (s.status !== 401) problems.push(`${at}: a wrong password got ${s.status}`);
        continue;
      }
      const overlapping = states.filter((x) => s.start <= x.to && s.end >= x.from);
      // Apache checks the password, then looks the user up in the map, a moment later: a request
      // that straddles a change can see user_file from one state and the map from another. Either
      // way a 200 only ever names a group the user was mapped to in one of those states.
      const allowed = new Set<string>();
      for (const { state: auth } of overlapping) {
        for (const { state: route } of overlapping) {
          if (!auth.passwords.has(s.user)) allowed.add('401');
          else if (!route.map.has(s.user)) allowed.add('403');
          else allowed.add(`200 ${route.map.get(s.user)}`);
        }
      }
      if (s.status === 200) {
        if (typeof s.group !== 'string' || s.group === '') problems.push(`${at}: 200 served in embedded mode or with no group (${JSON.stringify(s.group)})`);
        if (s.remoteUser !== s.user) problems.push(`${at}: 200 for remote_user ${JSON.stringify(s.remoteUser)}`);
        if (typeof s.group === 'string' && !greetings[s.group]?.has(String(s.greeting))) problems.push(`${at}: group ${s.group} answered with the settings GREETING=${JSON.stringify(s.greeting)}`);
        // Per-group isolation: as root each group is served by its own account, and only by it.
        if (process.getuid?.() === 0 && typeof s.group === 'string') {
          const uid = Number(s.uid);
          if (uidOfGroup.has(s.group) && uidOfGroup.get(s.group) !== uid) problems.push(`${at}: group ${s.group} served by uid ${uid}, earlier by ${uidOfGroup.get(s.group)}`);
          const owner = groupOfUid.get(uid);
          if (owner !== undefined && owner !== s.group) problems.push(`${at}: uid ${uid} serves both ${owner} and ${s.group}`);
          if (uid === 0) problems.push(`${at}: group ${s.group} served as root`);
          uidOfGroup.set(s.group, uid);
          groupOfUid.set(uid, s.group);
        }
      }
      const outcome = s.status === 200 ? `200 ${String(s.group)}` : String(s.status);
      if (!allowed.has(outcome)) {
        problems.push(`${at}: got ${outcome}, allowed ${[...allowed].join(' | ')} (states: ${overlapping.map((x) => x.label).join('; ')})`);
      }
    }
    const ok200 = samples.filter((s) => s.status === 200).length;
    t.diagnostic(
      `seed ${seed}: ${samples.length} requests in ${Math.round(elapsed / 1000)} s (${counts['200'] ?? 0} x 200, ${counts['401'] ?? 0} x 401, ${counts['403'] ?? 0} x 403` +
        `${Object.keys(counts).filter((k) => !['200', '401', '403'].includes(k)).map((k) => `, ${counts[k]} x ${k}`).join('')}); ` +
        `${changes.length} changes: ${changes.map((c) => `${c.what} [${Math.round(c.start - t0)}-${Math.round(c.end - t0)} ms]`).join('; ')}`,
    );
    assert.deepEqual(problems.slice(0, 40), [], `${problems.length} problems`);
    assert.equal(changes.length, steps.length, 'every change ran');
    assert.ok(samples.length >= minRequests, `at least ${minRequests} requests (${samples.length})`);
    assert.ok(ok200 > samples.length / 3, 'most requests were served');
    // Traffic saw every change: requests overlapped each change's window.
    for (const c of changes) assert.ok(samples.some((s) => s.start <= c.end && s.end >= c.start), `requests ran during ${c.what}`);
  });
});
