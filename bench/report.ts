/** The printed tables and the targets of GitHub issue "Scale and speed". */
import type { Measure } from './lib/measure.js';
import type { NoopResult } from './noop.js';
import type { RenderCell } from './render.js';
import type { StartupResult } from './startup.js';
import type { ScenarioResult, ThroughputResult } from './throughput.js';
import type { UserAddResult } from './useradd.js';
import { fmtCount, fmtMiB, fmtMs, fmtRatio, median, table } from './lib/util.js';

export interface Machine {
  host: string;
  nproc: number;
  cpu: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  apache: string;
  modWsgi: string;
  django: string;
  python: string;
  wrk: string;
  loadAvgStart: number[];
  loadAvgEnd?: number[];
}

export interface Results {
  startedAt: string;
  machine: Machine;
  command: string;
  floor: { medianMs: number; maxMs: number; n: number; rssMedianKiB: number };
  render: Omit<RenderCell, 'dir'>[];
  startup?: StartupResult;
  noop?: NoopResult;
  userAdd?: UserAddResult;
  throughput?: ThroughputResult;
  targets: Target[];
  errors: string[];
  totalSeconds: number;
}

export interface Target {
  target: string;
  value: string;
  /** undefined: not measured in this run. */
  met?: boolean;
  detail: string;
}

const mark = (m: Measure | undefined, cols: 'full' | 'short' = 'full'): string[] => {
  if (!m) return cols === 'full' ? ['-', '-', '-', '-', '-'] : ['-', '-', '-'];
  const lim = m.timedOut ? '>' : '';
  const peak = `${m.timedOut ? '>=' : ''}${fmtMiB(m.rssMaxKiB)}`;
  return cols === 'full'
    ? [`${lim}${fmtMs(m.wallMs.median)}`, `${lim}${fmtMs(m.wallMs.max)}`, `${lim}${fmtRatio(m.ratio)}`, peak, String(m.wallMs.n)]
    : [`${lim}${fmtMs(m.wallMs.median)}`, `${lim}${fmtMs(m.wallMs.max)}`, `${lim}${fmtRatio(m.ratio)}`];
};

export function targets(r: Omit<Results, 'targets' | 'totalSeconds'>): Target[] {
  const out: Target[] = [];
  const cell = (u: number, g: number) => r.render.find((c) => c.users === u && c.groups === g);
  /** Median wall time within `factor` times the median of its paired node -e 0 samples. */
  const within = (what: string, m: Measure | undefined, factor: number) => {
    const target = `${what} within ${factor}x node -e 0`;
    if (!m) return out.push({ target, value: 'not measured', detail: '' });
    const budget = factor * m.floorMs.median;
    const met = !m.timedOut && m.wallMs.median <= budget;
    return out.push({
      target,
      value: `${fmtRatio(m.ratio)} (${fmtMs(m.wallMs.median)}; floor ${fmtMs(m.floorMs.median)})`,
      met,
      detail: met ? 'met' : `missed by ${(m.ratio / factor).toFixed(1)}x: ${fmtMs(m.wallMs.median - budget)} over the ${factor}x budget of ${fmtMs(budget)}`,
    });
  };
  const within3 = (what: string, m: Measure | undefined) => within(what, m, 3);
  within3("render after one user's change, 10k users / 1000 groups,", cell(10000, 1000)?.change);
  within3('no-op plan, 10k users / 1000 groups,', r.noop?.plan);
  within3('no-op reconcile, 10k users / 1000 groups,', r.noop?.reconcile);
  within("render after one user's change, 100k users / 10 groups,", cell(100000, 10)?.change, 6);
  const first = cell(10000, 1000)?.first;
  out.push(
    first
      ? { target: 'first render, 10k users / 1000 groups (1003 files, 1000 data directories)', value: `${fmtMs(first.wallMs.median)} (${fmtRatio(first.ratio)}; after one change ${fmtMs(cell(10000, 1000)?.change?.wallMs.median ?? Number.NaN)})`, detail: 'measured (no target)' }
      : { target: 'first render, 10k users / 1000 groups', value: 'not measured', detail: '' },
  );
  within('plexctl --help', r.startup?.help, 1.5);
  within('plexctl validate of the demo inventory', r.startup?.validate, 1.5);

  const runs = r.throughput?.runs ?? [];
  const find = (prefix: string) => runs.find((x) => x.scenario.startsWith(prefix));
  const stat = find('static');
  const txt10 = find('plexctl routing, 10 users, txt');
  const dbmBig = runs.find((x) => x.scenario.includes('dbm') && !x.scenario.includes(' 10 users'));
  /** Median over rounds of a's req/s / b's req/s in the same round. */
  const share = (what: string, a: ScenarioResult | undefined, b: ScenarioResult | undefined, of: string) => {
    if (!a || !b) return out.push({ target: what, value: 'not measured', detail: '' });
    const ratio = median(a.samples.map((x, i) => x / b.samples[i]!));
    const met = ratio >= 0.95 && a.non2xx === 0;
    return out.push({
      target: what,
      value: `${(ratio * 100).toFixed(1)}% (median req/s ${a.requestsPerSec.toFixed(0)} against ${b.requestsPerSec.toFixed(0)})`,
      met,
      detail: met ? 'met' : `missed by ${((0.95 - ratio) * 100).toFixed(1)} points of ${of}`,
    });
  };
  share('routing with 10 users >= 95% of static', txt10, stat, 'the static figure');
  share(`${fmtCount(r.throughput?.mapUsers ?? 100000)} users with dbm >= 95% of the 10-user figure`, dbmBig, txt10, 'the 10-user (txt) figure');
  const formRun = runs.find((x) => x.scenario.includes('form login'));
  if (formRun && txt10) {
    const ratio = median(formRun.samples.map((x, i) => x / txt10.samples[i]!));
    out.push({
      target: 'form login (session cookie) against Basic, 10 users, txt map, same run',
      value: `${(ratio * 100).toFixed(1)}% (median req/s ${formRun.requestsPerSec.toFixed(0)} against ${txt10.requestsPerSec.toFixed(0)})`,
      detail: 'measured (no target)',
    });
  }

  if (!r.userAdd) out.push({ target: 'user add into a ready group to first routed request, median within 0.4 s', value: 'not measured', detail: '' });
  else {
    const m = r.userAdd.firstRoutedMs.median;
    out.push({
      target: 'user add into a ready group to first routed request, median within 0.4 s',
      value: `${fmtMs(m)} (max ${fmtMs(r.userAdd.firstRoutedMs.max)}; respawn floor ${fmtMs(r.userAdd.respawnMs.median)})`,
      met: m <= 400,
      detail: m <= 400 ? 'met' : `missed by ${fmtMs(m - 400)}`,
    });
  }

  const line = [100, 1000, 10000, 100000].map((u) => cell(u, 10));
  const big = line[3]?.first;
  if (!big || !line[1] || !line[2]) out.push({ target: 'memory linear in users; 100k users render under 1 GiB peak', value: 'not measured', detail: '' });
  else {
    const rss = (c: RenderCell | Omit<RenderCell, 'dir'> | undefined) => c!.first.rssMaxKiB;
    const slopeLow = (rss(line[2]) - rss(line[1])) / 9000;
    const slopeHigh = (rss(line[3]) - rss(line[2])) / 90000;
    const linear = slopeHigh <= 1.5 * Math.max(slopeLow, 0.5);
    const under = big.rssMaxKiB < 1024 * 1024;
    const met = linear && under && !big.timedOut;
    out.push({
      target: 'memory linear in users; 100k users render under 1 GiB peak',
      value: `${big.timedOut ? '>=' : ''}${fmtMiB(big.rssMaxKiB)} at 100k; ${slopeLow.toFixed(1)} KiB/user (1k-10k), ${slopeHigh.toFixed(1)} KiB/user (10k-100k)`,
      met,
      detail: met
        ? 'met'
        : big.timedOut
          ? `not established: the 100k render was killed at its time limit (peak so far ${fmtMiB(big.rssMaxKiB)}, ${linear ? 'linear so far' : 'superlinear'})`
          : `missed: ${!under ? `peak ${fmtMiB(big.rssMaxKiB)} is over 1 GiB` : ''}${!linear ? ' growth per user rises with users' : ''}`.trim(),
    });
  }
  return out;
}

export function formatResults(r: Results): string {
  const m = r.machine;
  const parts: string[] = [];
  parts.push(
    `plexctl benchmarks, ${r.startedAt}`,
    `machine: ${m.host}, ${m.nproc} CPUs (${m.cpu}), ${m.memoryGiB.toFixed(1)} GiB, Linux ${m.kernel}; Node ${m.node}; ${m.apache}; mod_wsgi ${m.modWsgi}; Django ${m.django}; ${m.python}; ${m.wrk}`,
    `load average at start ${m.loadAvgStart.map((x) => x.toFixed(2)).join(' ')}${m.loadAvgEnd ? `, at end ${m.loadAvgEnd.map((x) => x.toFixed(2)).join(' ')}` : ''}`,
    `floor: node -e 0 median ${fmtMs(r.floor.medianMs)} (max ${fmtMs(r.floor.maxMs)}, n=${r.floor.n}, peak RSS ${fmtMiB(r.floor.rssMedianKiB)}); each CLI figure's ratio is to the floor samples taken just before its own runs`,
    '',
  );
  if (r.render.length > 0) {
    parts.push(
      'render: `node bin/plexctl.js -i FILE render`, wall time of the process (median, max of n runs), ratio to node -e 0, peak RSS',
      table(
        ['users', 'groups', 'first', 'max', 'x floor', 'peak RSS', 'n', 'after 1 change', 'max', 'x floor', 'peak RSS', 'n'],
        r.render.map((c) => [fmtCount(c.users), String(c.groups), ...mark(c.first), ...(c.change ? mark(c.change) : ['skipped', '', '', '', ''])]),
        0,
      ),
    );
    for (const c of r.render) if (c.changeSkipped) parts.push(`  ${fmtCount(c.users)} users / ${c.groups} groups, after 1 change: skipped: ${c.changeSkipped}`);
    for (const c of r.render) if (c.first.timedOut) parts.push(`  ${fmtCount(c.users)} users / ${c.groups} groups: killed at the time limit; ">" marks a lower bound`);
    parts.push('');
  }
  if (r.startup) {
    parts.push(
      `start-up: the CLI starting and loading what the command needs, beside node -e 0 (each run after its own floor sample; how bin/plexctl.js started: ${r.startup.codeCache ?? 'not recorded'})`,
      table(['command', 'median', 'max', 'x floor', 'floor median'], [
        ['plexctl --help', ...mark(r.startup.help, 'short'), fmtMs(r.startup.help.floorMs.median)],
        ['plexctl -i examples/demo/plex.yaml validate', ...mark(r.startup.validate, 'short'), fmtMs(r.startup.validate.floorMs.median)],
      ]),
      '',
    );
  }
  if (r.noop) {
    parts.push(
      `nothing to do, ${fmtCount(r.noop.users)} users / ${r.noop.groups} groups (${r.noop.note})`,
      table(['command', 'median', 'max', 'x floor'], [
          ['plan', ...mark(r.noop.plan, 'short')],
          ['reconcile', ...mark(r.noop.reconcile, 'short')],
          ['plexctl --help (startup and module loading only)', ...mark(r.noop.help, 'short')],
        ]),
      '',
    );
  }
  if (r.userAdd) {
    const u = r.userAdd;
    parts.push(
      `user add on a live private Apache (${u.groups} groups, each add to a ready group: empty, never used, so nothing restarts; n=${u.adds.length})`,
      table(
        ['measure', 'median', 'max', 'n'],
        [
          ['spawn `user add` -> first 200 in the right group', fmtMs(u.firstRoutedMs.median), fmtMs(u.firstRoutedMs.max), String(u.firstRoutedMs.n)],
          ['spawn `user add` -> the command exits', fmtMs(u.cliMs.median), fmtMs(u.cliMs.max), String(u.cliMs.n)],
          ['floor: SIGINT a daemon -> 200 from a new pid', fmtMs(u.respawnMs.median), fmtMs(u.respawnMs.max), String(u.respawnMs.n)],
        ],
      ),
      `  timeline of an add (medians, ms after the spawn, seen from outside every 10 ms): old daemon gone ${fmtMs(u.timeline.oldDaemonGone)},` +
        ` new daemon forked ${fmtMs(u.timeline.newDaemonForked)}, ready ${fmtMs(u.timeline.newDaemonReady)}, procmap.txt written ${fmtMs(u.timeline.procmapWritten)},` +
        ` password written ${fmtMs(u.timeline.passwordWritten)}, first routed 200 ${fmtMs(u.firstRoutedMs.median)}`,
      '',
    );
  }
  if (r.throughput) {
    const t = r.throughput;
    parts.push(
      `throughput: ${t.wrk}, ${t.rounds} rounds (each scenario once per round, order rotated); user ${t.user};`,
      `  ${t.groups} groups, processes 1, threads 5; the ${fmtCount(t.mapUsers)} map: ${t.mapSource}` +
        (t.mapMatchesRender === undefined ? '' : t.mapMatchesRender ? ', identical to plexctl\'s render' : ', DIFFERENT from plexctl\'s render (see bench/lib/inventory.ts)'),
      table(
        ['scenario', 'req/s', 'min', 'max', 'x static', 'p50', 'p99', 'non-2xx', 'cold lookup', 'warm', 'miss req/s'],
        t.runs.map((x) => [
          x.scenario,
          x.requestsPerSec.toFixed(0),
          x.minRequestsPerSec.toFixed(0),
          x.maxRequestsPerSec.toFixed(0),
          `${(x.ratioToStatic * 100).toFixed(1)}%`,
          fmtMs(x.latencyP50Ms),
          fmtMs(x.latencyP99Ms),
          String(x.non2xx),
          x.coldLookupMs === undefined ? '-' : fmtMs(x.coldLookupMs),
          x.warmMs === undefined ? '-' : fmtMs(x.warmMs),
          x.missRequestsPerSec === undefined ? '-' : x.missRequestsPerSec.toFixed(0),
        ]),
      ),
      '  req/s: median over rounds; x static: median over rounds of req/s / static req/s in the same round.',
      '  cold lookup: one request right after the map\'s mtime changed (its Apache child re-reads the map); warm: the next one on',
      '  the same connection (the lookup cached by that child); best of 9 each.',
      '  miss req/s: an authenticated user with no map entry (403), which never reaches Django.',
      ...t.notes.map((n) => `  note: ${n}`),
      '',
    );
  }
  parts.push(
    'targets',
    table(
      ['', 'target', 'measured', 'verdict'],
      r.targets.map((t) => [t.met === undefined ? '-' : t.met ? 'MET' : 'MISSED', t.target, t.value, t.detail]),
      4,
    ),
  );
  if (r.errors.length > 0) parts.push('', 'errors (these parts are missing):', ...r.errors.map((e) => `  ${e.split('\n').slice(0, 6).join('\n    ')}`));
  parts.push('', `total runtime: ${Math.floor(r.totalSeconds / 60)} min ${Math.round(r.totalSeconds % 60)} s`);
  return `${parts.join('\n')}\n`;
}

