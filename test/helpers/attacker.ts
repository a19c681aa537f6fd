/**
 * A local attacker for the root-safety tests: code run as `nobody` (setpriv, no supplementary
 * groups) that swaps symlinks, hard links and FIFOs in at names in a directory it can write, in a
 * loop, while plexctl runs as root; plus sentinels (files and a sleeping process) that must come
 * out of every test unchanged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, chown, lstat, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from './e2e.js';

export const nobody = 65534;
export const nogroup = 65534;
const python = '/usr/bin/python3';

/** argv that runs `command` as nobody:nogroup with no supplementary groups. */
export const asNobody = (command: string[]) => ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', ...command];

const swapperScript = String.raw`
import json, os, signal, sys
spec = json.loads(sys.argv[1])
d = spec['dir']
kinds = [('symlink', t) for t in spec['symlink']] + [('hardlink', t) for t in spec['hardlink']] + ([('fifo', None)] if spec['fifo'] else [])
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
tmp = os.path.join(d, '.atk-%d' % os.getpid())
swaps = {'symlink': 0, 'hardlink': 0, 'fifo': 0}
errors = 0
passes = 0
seen = set()
print('ready', flush=True)
i = 0
while not stop:
    names = list(spec['names'])
    try:
        # Every temp name plexctl could use, as soon as it appears.
        extra = [n for n in os.listdir(d) if n.endswith('.plexctl-tmp') or n.endswith('.break') or '.stale-' in n]
        seen.update(extra)
        names += extra
    except OSError:
        pass
    for name in names:
        kind, target = kinds[i % len(kinds)]
        i += 1
        try:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            except PermissionError:
                # A hard link to root's file in a sticky directory is root's: move on to a new name.
                tmp = os.path.join(d, '.atk-%d-%d' % (os.getpid(), i))
            if kind == 'symlink':
                os.symlink(target, tmp)
            elif kind == 'hardlink':
                os.link(target, tmp)
            else:
                os.mkfifo(tmp)
            os.rename(tmp, os.path.join(d, name))
            swaps[kind] += 1
        except OSError:
            errors += 1
    passes += 1
for name in os.listdir(d):
    if name.startswith('.atk-%d' % os.getpid()):
        try:
            os.unlink(os.path.join(d, name))
        except OSError:
            pass
print(json.dumps({'swaps': swaps, 'errors': errors, 'passes': passes, 'seen': sorted(seen)}), flush=True)
`;

export interface SwapSpec {
  dir: string;
  /** Names in `dir` to swap (temp names are added as they appear). */
  names: string[];
  symlink: string[];
  hardlink: string[];
  fifo: boolean;
}

export interface SwapReport {
  swaps: { symlink: number; hardlink: number; fifo: number };
  errors: number;
  passes: number;
  seen: string[];
}

export interface Swapper {
  pid: number;
  stop(): Promise<SwapReport>;
}

/** Start the swapping loop as nobody; resolves once it runs. */
export async function startSwapper(spec: SwapSpec): Promise<Swapper> {
  const [command, ...args] = asNobody([python, '-c', swapperScript, JSON.stringify(spec)]);
  const child = spawn(command!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const check = () => (out.startsWith('ready\n') ? resolve() : undefined);
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`swapper exited (${code}): ${err}`)));
  });
  child.removeAllListeners('exit');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      const last = out.trim().split('\n').pop()!;
      try {
        return JSON.parse(last) as SwapReport;
      } catch {
        throw new Error(`swapper said ${out} ${err}`);
      }
    },
  };
}

/** Run a command as nobody to completion (setup steps the attacker takes). */
export async function runAsNobody(command: string[]): Promise<void> {
  const [cmd, ...args] = asNobody(command);
  const child = spawn(cmd!, args, { stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${command.join(' ')} as nobody exited ${code}`);
}

export interface SentinelProcess {
  pid: number;
  /** Alive, not a zombie, and the same process (its start time unchanged). */
  alive(): Promise<boolean>;
  kill(): void;
}

async function startTicks(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[0] === 'Z' ? undefined : fields[19];
}

/**
 * A sleeping process the attacker would like plexctl to signal: root's own by default; with
 * `argv0`, run as nobody under that name (a fake `/usr/sbin/apache2`). SIGUSR1, SIGTERM, SIGINT
 * and SIGKILL all end a sleep, so being alive afterwards means it was not signalled.
 */
export async function startSentinelProcess(options: { argv0?: string } = {}): Promise<SentinelProcess> {
  const child: ChildProcess = options.argv0
    ? spawn(asNobody([python, '-c', `import os; os.execv('/bin/sleep', [${JSON.stringify(options.argv0)}, '600'])`])[0]!,
        asNobody([python, '-c', `import os; os.execv('/bin/sleep', [${JSON.stringify(options.argv0)}, '600'])`]).slice(1), { stdio: 'ignore' })
    : spawn('/bin/sleep', ['600'], { stdio: 'ignore' });
  const pid = child.pid!;
  child.unref();
  // Until the exec has happened, /proc shows the launcher; wait for the final name.
  const deadline = Date.now() + 5000;
  for (;;) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0')[0] === (options.argv0 ?? '/bin/sleep')) break;
    if (Date.now() > deadline) throw new Error(`sentinel ${pid} did not start: ${cmdline}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const start = await startTicks(pid);
  return {
    pid,
    alive: async () => start !== undefined && (await startTicks(pid)) === start && child.exitCode === null && child.signalCode === null,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

export interface Sentinels {
  dir: string;
  /** root:root 0600, "root-only secret": a symlink target (plexctl must neither read nor change it). */
  secret: string;
  /** root:root 0666: a file nobody may hard-link (fs.protected_hardlinks allows it for a file they can read and write). */
  shared: string;
  /** root:root 04755: a chmod or chown through a link would show. */
  setuid: string;
  /** nobody's own file, 0644: must not become root's. */
  theirs: string;
  files: string[];
  /** hash, mode, owner of every sentinel (and of the directory itself). */
  snapshot(): Promise<string[]>;
  /** dev:ino of every sentinel file: a hard link to one of them is the attacker's, not plexctl's. */
  inodes(): Promise<Set<string>>;
}

export async function makeSentinels(): Promise<Sentinels> {
  const dir = await makeTempDir('plexctl-sentinel-');
  const secret = join(dir, 'secret');
  const shared = join(dir, 'shared');
  const setuid = join(dir, 'setuid');
  const theirs = join(dir, 'theirs');
  await writeFile(secret, 'root-only secret\n', { mode: 0o600 });
  await writeFile(shared, 'shared sentinel\n');
  await chmod(shared, 0o666);
  await writeFile(setuid, '#!/bin/sh\necho sentinel\n');
  await chmod(setuid, 0o4755);
  await writeFile(theirs, "nobody's file\n");
  await chown(theirs, nobody, nogroup);
  const files = [secret, shared, setuid, theirs];
  return {
    dir,
    secret,
    shared,
    setuid,
    theirs,
    files,
    snapshot: async () => [await describeEntry(dir, { withLinks: false }), ...(await Promise.all(files.map((f) => describeEntry(f, { withLinks: false })))), ...(await readdir(dir)).sort()],
    inodes: async () => new Set(await Promise.all(files.map(async (f) => { const s = await lstat(f); return `${s.dev}:${s.ino}`; }))),
  };
}

/** One line for a path: type, mode, owner, and content hash or link target. */
export async function describeEntry(path: string, options: { withLinks?: boolean } = {}): Promise<string> {
  const s = await lstat(path);
  const kind = s.isFile() ? 'f' : s.isDirectory() ? 'd' : s.isSymbolicLink() ? 'l' : s.isFIFO() ? 'p' : '?';
  const body = s.isFile()
    ? createHash('sha256').update(await readFile(path)).digest('hex')
    : s.isSymbolicLink()
      ? await readlink(path)
      : '';
  return `${path} ${kind} ${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid}${options.withLinks === false ? '' : ` n${s.nlink}`} ${body}`;
}

/**
 * Every entry under `root`, described, except the direct entries of `skip` (the attacker's
 * directory, whose content the attacker changes); directories there that existed are descended.
 */
export async function snapshotTree(root: string, skip?: string, keepDirs: ReadonlySet<string> = new Set()): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      if (dir === skip && !keepDirs.has(name)) continue;
      out.push(await describeEntry(path));
      if ((await lstat(path)).isDirectory()) await walk(path);
    }
  }
  out.push(await describeEntry(root));
  await walk(root);
  return out;
}
