/**
 * The benchmark suite of GitHub issue "Scale and speed": `npm run bench`. It measures and reports;
 * it asserts nothing. Figures are medians over repeated runs (with the max), each CLI figure next
 * to the floor of any Node CLI (`node -e 0`) measured alongside it. Prints a table and writes
 * bench/results/<ISO date>-<host>.json and bench/results/latest.json.
 *
 *   node dist/bench/run.js [--quick] [--only=startup,render,noop,useradd,throughput] [--budget=SECONDS] [--no-write]
 *
 * --quick: a small grid, fewer repetitions and 2 s wrk runs, without the 100k-user render, for
 * trying the suite out (results are written only with --write). The full run keeps itself under
 * --budget (default 570 s): the 100k-user render comes last and gets the time the other phases
 * leave (at most 300 s); killed at that limit, its figures are lower bounds, marked ">".
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, hostname, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { noopCommands } from './noop.js';
import { renderCell, type RenderCell } from './render.js';
import { startupBench } from './startup.js';
import { formatResults, targets, type Machine, type Results } from './report.js';
import { throughputBench } from './throughput.js';
import { userAddBench } from './useradd.js';
import { inventoryText, procmapText } from './lib/inventory.js';
import { ensureGnuTime, Floor, max, plexctl, removeDir, repoRoot } from './lib/util.js';

type Phase = 'startup' | 'render' | 'noop' | 'useradd' | 'throughput';

interface Options {
  quick: boolean;
  only: Set<Phase>;
  budgetMs: number;
  write: boolean;
}

function parseArgs(argv: string[]): Options {
  const all: Phase[] = ['startup', 'render', 'noop', 'useradd', 'throughput'];
  const options: Options = { quick: false, only: new Set(all), budgetMs: 570_000, write: true };
  let writeGiven: boolean | undefined;
  for (const arg of argv) {
    if (arg === '--quick') options.quick = true;
    else if (arg === '--write') writeGiven = true;
    else if (arg === '--no-write') writeGiven = false;
    else if (arg.startsWith('--only=')) {
      const wanted = arg.slice('--only='.length).split(',');
      for (const w of wanted) if (!all.includes(w as Phase)) throw new Error(`--only: unknown phase ${w} (phases: ${all.join(', ')})`);
      options.only = new Set(wanted as Phase[]);
    } else if (arg.startsWith('--budget=')) options.budgetMs = Number(arg.slice('--budget='.length)) * 1000;
    else throw new Error(`unknown argument ${arg}\nusage: node dist/bench/run.js [--quick] [--only=startup,render,noop,useradd,throughput] [--budget=SECONDS] [--no-write|--write]`);
  }
  options.write = writeGiven ?? !options.quick;
  return options;
}

function output(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
}

function machine(): Machine {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const dpkg = (pkg: string) => output('dpkg-query', ['-W', '-f', '${Version}', pkg]) || 'unknown';
  return {
    host: hostname(),
    nproc: availableParallelism(),
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    memoryGiB: totalmem() / 1024 ** 3,
    kernel: release(),
    node: process.version,
    apache: /Server version:\s*(.+)/.exec(output('/usr/sbin/apache2', ['-v']))?.[1] ?? 'unknown',
    modWsgi: dpkg('libapache2-mod-wsgi-py3'),
    django: dpkg('python3-django'),
    python: output('python3', ['--version']),
    wrk: output('wrk', ['-v']).split('\n')[0]?.replace(/ Copyright.*/, '') ?? 'unknown',
    loadAvgStart: loadavg(),
  };
}

/** wrk is needed for the throughput runs; install it (as root) when missing. */
function ensureWrk(): boolean {
  if (spawnSync('wrk', ['-v']).error === undefined) return true;
  if (process.getuid?.() !== 0) return false;
  process.stderr.write('bench: wrk is missing; installing the Debian package `wrk`\n');
  spawnSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return spawnSync('wrk', ['-v']).error === undefined;
}

const log = (text: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const deadline = started + options.budgetMs;
  const startedAt = new Date().toISOString();
  const errors: string[] = [];
  if (!ensureGnuTime()) errors.push('GNU time (/usr/bin/time, Debian package `time`) is missing: no peak RSS figures');
  const info = machine();
  log(`load average ${info.loadAvgStart.map((x) => x.toFixed(2)).join(' ')} on ${info.nproc} CPUs`);
  const floor = new Floor();
  const cells: RenderCell[] = [];
  const result: Omit<Results, 'targets' | 'totalSeconds'> = {
    startedAt,
    machine: info,
    command: `cd ${repoRoot} && npm run bench`,
    floor: { medianMs: NaN, maxMs: NaN, n: 0, rssMedianKiB: NaN },
    render: [],
    errors,
  };
  const attempt = async (what: string, work: () => Promise<void>) => {
    const t = performance.now();
    log(`${what}...`);
    try {
      await work();
    } catch (error) {
      errors.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      log(`${what} FAILED: ${error instanceof Error ? error.message : String(error)}`);
    }
    log(`${what}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  };

  const renderOptions = { reps: options.quick ? 2 : 3, timeoutMs: 120_000, capMs: 25_000, changeIfFirstBelowMs: 60_000 };
  const bigUsers = 100000;
  const grid: [number, number][] = options.quick
    ? [[100, 10], [1000, 100], [10000, 1000]]
    : [[100, 10], [1000, 10], [10000, 10], [10000, 100], [10000, 1000]];
  try {
    if (options.only.has('startup')) {
      await attempt('start-up: --help and validate of the demo inventory', async () => {
        result.startup = await startupBench(floor, options.quick ? 10 : 20, 20_000);
        log(`  --help ${Math.round(result.startup.help.wallMs.median)} ms, validate ${Math.round(result.startup.validate.wallMs.median)} ms, floor ${Math.round(floor.median)} ms`);
      });
    }
    if (options.only.has('render') || options.only.has('noop')) {
      for (const [users, groups] of options.only.has('render') ? grid : [[10000, 1000] as [number, number]]) {
        await attempt(`render ${users} users / ${groups} groups`, async () => {
          const cell = await renderCell(users, groups, floor, renderOptions);
          cells.push(cell);
          log(`  first ${Math.round(cell.first.wallMs.median)} ms, after one change ${cell.change ? Math.round(cell.change.wallMs.median) : '-'} ms, peak ${Math.round(cell.first.rssMaxKiB / 1024)} MiB`);
        });
      }
    }
    if (options.only.has('noop')) {
      await attempt('plan and reconcile with nothing to do, 10k users / 1000 groups', async () => {
        const cell = cells.find((c) => c.users === 10000 && c.groups === 1000);
        if (!cell || cell.first.timedOut) throw new Error('the 10k users / 1000 groups render did not finish');
        result.noop = await noopCommands(cell.dir, 10000, 1000, floor, 3, 30_000);
      });
    }
    if (options.only.has('useradd')) {
      await attempt('user add on a live Apache', async () => {
        result.userAdd = await userAddBench(options.quick ? 3 : 10, options.quick ? 3 : 10);
      });
    }
    if (options.only.has('throughput')) {
      await attempt('throughput with wrk', async () => {
        if (!ensureWrk()) throw new Error('wrk is not installed (apt-get install -y wrk)');
        result.throughput = await throughputBench({ durationS: options.quick ? 2 : 5, rounds: options.quick ? 1 : 5, mapUsers: bigUsers });
      });
    }
    // Last, with whatever time the budget leaves (today it is the slowest figure by far).
    if (options.only.has('render') && !options.quick) {
      const timeoutMs = Math.min(300_000, Math.max(30_000, deadline - performance.now()));
      await attempt(`render ${bigUsers} users / 10 groups (time limit ${Math.round(timeoutMs / 1000)} s)`, async () => {
        const cell = await renderCell(bigUsers, 10, floor, { ...renderOptions, timeoutMs });
        cells.push(cell);
        log(`  first ${Math.round(cell.first.wallMs.median)} ms${cell.first.timedOut ? ' (killed)' : ''}, peak ${Math.round(cell.first.rssMaxKiB / 1024)} MiB`);
        if (!cell.first.timedOut && result.throughput) {
          // The throughput runs used a map made by bench/; check it is what plexctl renders for
          // the inventory as generated (the render phase may have left one user moved).
          const file = join(cell.dir, 'plex.yaml');
          await writeFile(file, inventoryText({ users: bigUsers, groups: 10, served: false, shared: true }));
          await plexctl(['-i', file, 'render'], { cwd: cell.dir });
          const rendered = await readFile(join(cell.dir, 'build', 'wsgi', 'procmap.txt'), 'utf8');
          result.throughput.mapMatchesRender = rendered === procmapText(bigUsers, 10, file);
        }
      });
    }
    result.render = cells.map(({ dir: _dir, ...rest }) => rest);
  } finally {
    for (const cell of cells) await removeDir(cell.dir);
  }

  info.loadAvgEnd = loadavg();
  result.floor = { medianMs: floor.median, maxMs: max(floor.samples), n: floor.samples.length, rssMedianKiB: floor.rssKiB.length ? [...floor.rssKiB].sort((a, b) => a - b)[Math.floor(floor.rssKiB.length / 2)]! : NaN };
  const full: Results = { ...result, targets: targets(result), totalSeconds: (performance.now() - started) / 1000 };
  process.stdout.write(formatResults(full));
  if (options.write) {
    const dir = join(repoRoot, 'bench', 'results');
    await mkdir(dir, { recursive: true });
    const name = `${startedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}-${info.host}.json`;
    const json = `${JSON.stringify(full, null, 2)}\n`;
    await writeFile(join(dir, name), json);
    await writeFile(join(dir, 'latest.json'), json);
    process.stdout.write(`results: bench/results/${name} (and bench/results/latest.json)\n`);
  }
  return errors.length > 0 ? 1 : 0;
}

process.exitCode = await main();
