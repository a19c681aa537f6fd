/** The inter-process lock file: exclusion, waiting, timeouts and taking over stale locks. */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireLock, LockTimeout, maxLockBytes } from '../src/lock/file-lock.js';
import { UserError } from '../src/errors.js';
import { processIdentity } from '../src/system/processes.js';
import { UnsafePathError } from '../src/system/safe-fs.js';

const moduleUrl = new URL('../src/lock/file-lock.js', import.meta.url).href;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plexctl-lock-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
const lockPath = () => join(dir, `plex-${++counter}.yaml.lock`);

async function startTicksOf(pid: number): Promise<number> {
  const identity = await processIdentity(pid);
  assert.ok(identity, `pid ${pid} is not running`);
  return identity.startTicks;
}

/**
 * acquireLock on a path that holds something other than a lock: refused within a second (though
 * it could wait 10 s) with a message naming the path and the `rm` that removes it.
 */
async function assertRefusedPromptly(path: string, reason: RegExp): Promise<void> {
  const started = Date.now();
  await assert.rejects(acquireLock(path, { timeoutMs: 10_000, pollMs: 20 }), (error: unknown) => {
    assert.ok(error instanceof UnsafePathError, String(error));
    assert.ok(error instanceof UserError);
    assert.equal(error.path, path);
    assert.match(error.message, new RegExp(`^refusing ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: it `));
    assert.match(error.reason, reason);
    assert.ok(error.hint?.endsWith(`rm ${path}`), error.hint);
    return true;
  });
  assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
}

async function exists(path: string): Promise<boolean> {
  return readFile(path).then(
    () => true,
    () => false,
  );
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  assert.ok(child.pid);
  return child.pid;
}

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('file lock', () => {
  it('creates the lock file with our pid, start time and command, and release deletes it', async () => {
    const path = lockPath();
    const lock = await acquireLock(path, { timeoutMs: 0 });
    const data = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    assert.equal(data.pid, process.pid);
    assert.equal(data.startTicks, await startTicksOf(process.pid));
    assert.ok(!(await stat(path)).isSymbolicLink());
    assert.equal(data.command, process.argv.slice(2).join(' '));
    assert.ok(!Number.isNaN(Date.parse(String(data.started))));
    await lock.release();
    assert.equal(await exists(path), false);
    await lock.release(); // twice is harmless
    const again = await acquireLock(path, { timeoutMs: 0 });
    await again.release();
  });

  it('makes a second acquirer wait until the first releases', async () => {
    const path = lockPath();
    const first = await acquireLock(path, { timeoutMs: 0 });
    let acquired = false;
    const second = acquireLock(path, { timeoutMs: 5000, pollMs: 10 }).then((lock) => {
      acquired = true;
      return lock;
    });
    await sleep(100);
    assert.equal(acquired, false);
    await first.release();
    const lock = await second;
    assert.equal(acquired, true);
    assert.equal(JSON.parse(await readFile(path, 'utf8')).pid, process.pid);
    await lock.release();
    assert.equal(await exists(path), false);
  });

  it('times out naming the holder\'s pid and command', async () => {
    const path = lockPath();
    const startTicks = await startTicksOf(process.pid);
    await writeFile(path, JSON.stringify({ pid: process.pid, startTicks, started: new Date().toISOString(), command: 'user add bob' }));
    const started = Date.now();
    await assert.rejects(acquireLock(path, { timeoutMs: 200, pollMs: 20 }), (error: unknown) => {
      assert.ok(error instanceof LockTimeout);
      assert.ok(error instanceof UserError);
      assert.equal(error.message, `another plexctl (pid ${process.pid}: user add bob) holds the lock ${path}`);
      assert.equal(error.hint, 'wait for it to finish, or raise --lock-timeout');
      assert.equal(error.holder?.pid, process.pid);
      return true;
    });
    assert.ok(Date.now() - started >= 190);
    // A lock that is not ours is never deleted by a waiter.
    assert.equal(JSON.parse(await readFile(path, 'utf8')).command, 'user add bob');
  });

  it('times out against a lock held in this process too', async () => {
    const path = lockPath();
    const lock = await acquireLock(path, { timeoutMs: 0 });
    await assert.rejects(acquireLock(path, { timeoutMs: 0 }), new RegExp(`\\(pid ${process.pid}[:)]`));
    await lock.release();
  });

  it('takes over a lock whose holder is dead', async () => {
    const path = lockPath();
    const pid = await deadPid();
    await writeFile(path, JSON.stringify({ pid, started: new Date().toISOString(), command: 'render' }));
    const lock = await acquireLock(path, { timeoutMs: 1000 });
    assert.equal(JSON.parse(await readFile(path, 'utf8')).pid, process.pid);
    await lock.release();
    assert.equal(await exists(path), false);
  });

  it('takes over an empty lock file once it is old, but waits for a new one', async () => {
    const path = lockPath();
    await writeFile(path, '');
    await assert.rejects(acquireLock(path, { timeoutMs: 100, pollMs: 20 }), /\(pid unknown\) holds the lock/);
    const old = new Date(Date.now() - 60_000);
    await utimes(path, old, old);
    const lock = await acquireLock(path, { timeoutMs: 1000 });
    assert.equal(JSON.parse(await readFile(path, 'utf8')).pid, process.pid);
    await lock.release();
  });

  it('takes over an old unparseable lock file', async () => {
    const path = lockPath();
    await writeFile(path, '{"pid": 12');
    const old = new Date(Date.now() - 60_000);
    await utimes(path, old, old);
    const lock = await acquireLock(path, { timeoutMs: 1000 });
    await lock.release();
  });

  it('refuses a FIFO at the lock path at once, never waiting on it', async () => {
    const path = lockPath();
    execFileSync('mkfifo', [path]);
    await assertRefusedPromptly(path, /FIFO/);
    assert.ok((await stat(path)).isFIFO()); // left for the operator to remove
  });

  it('refuses a lock symlinked to /dev/zero at once, reading nothing from it', async () => {
    const path = lockPath();
    await symlink('/dev/zero', path);
    const before = process.memoryUsage().rss;
    await assertRefusedPromptly(path, /symbolic link/);
    assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024, 'memory grew');
  });

  it('refuses a character device, a socket and a directory at the lock path at once', async () => {
    const device = lockPath();
    execFileSync('mknod', [device, 'c', '1', '5']); // /dev/zero's numbers
    await assertRefusedPromptly(device, /character device/);
    const socket = lockPath();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      await assertRefusedPromptly(socket, /socket/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const directory = lockPath();
    execFileSync('mkdir', [directory]);
    await assertRefusedPromptly(directory, /directory/);
  });

  it('refuses an oversized lock at once, saying what to remove', async () => {
    const path = lockPath();
    await writeFile(path, JSON.stringify({ pid: process.pid, startTicks: await startTicksOf(process.pid), command: 'x'.repeat(maxLockBytes) }));
    await assertRefusedPromptly(path, new RegExp(`more than the ${maxLockBytes} allowed`));
  });

  it('waits on a fresh garbage lock, then says what to remove', async () => {
    const path = lockPath();
    await writeFile(path, 'garbage, not JSON\n');
    await assert.rejects(acquireLock(path, { timeoutMs: 100, pollMs: 20 }), (error: unknown) => {
      assert.ok(error instanceof LockTimeout);
      assert.equal(error.message, `another plexctl (pid unknown) holds the lock ${path}`);
      assert.ok(error.hint?.endsWith(`if no plexctl is running, remove it: rm ${path}`), error.hint);
      return true;
    });
    assert.equal(await readFile(path, 'utf8'), 'garbage, not JSON\n');
  });

  it('takes over a forged lock naming pid 1 with a wrong start time', async () => {
    const path = lockPath();
    const startTicks = (await startTicksOf(1)) + 12345;
    await writeFile(path, JSON.stringify({ pid: 1, startTicks, started: new Date().toISOString(), command: 'forged' }));
    const started = Date.now();
    const lock = await acquireLock(path, { timeoutMs: 10_000, pollMs: 20 });
    assert.ok(Date.now() - started < 1000);
    assert.equal(JSON.parse(await readFile(path, 'utf8')).pid, process.pid);
    await lock.release();
  });

  it('takes over a lock naming a live pid but no start time (forged, or from before start times)', async () => {
    const path = lockPath();
    await writeFile(path, JSON.stringify({ pid: 1, started: new Date().toISOString(), command: 'forged' }));
    const lock = await acquireLock(path, { timeoutMs: 10_000, pollMs: 20 });
    assert.equal(JSON.parse(await readFile(path, 'utf8')).pid, process.pid);
    await lock.release();
  });

  it('respects a lock naming a live process with its own start time', async () => {
    const path = lockPath();
    const child = spawn('sleep', ['30']);
    try {
      assert.ok(child.pid);
      await writeFile(path, JSON.stringify({ pid: child.pid, startTicks: await startTicksOf(child.pid), command: 'render' }));
      await assert.rejects(acquireLock(path, { timeoutMs: 200, pollMs: 20 }), (error: unknown) => {
        assert.ok(error instanceof LockTimeout);
        assert.equal(error.holder?.pid, child.pid);
        return true;
      });
      assert.equal(JSON.parse(await readFile(path, 'utf8')).pid, child.pid);
    } finally {
      child.kill();
    }
  });

  it('lets only one of several waiters in at a time when they race for a stale lock', async () => {
    const path = lockPath();
    await writeFile(path, JSON.stringify({ pid: await deadPid(), started: new Date().toISOString(), command: 'x' }));
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const lock = await acquireLock(path, { timeoutMs: 10_000, pollMs: 2 });
        inside++;
        most = Math.max(most, inside);
        await sleep(5);
        inside--;
        await lock.release();
      }),
    );
    assert.equal(most, 1);
    assert.equal(await exists(path), false);
  });

  it('release leaves a lock file that is no longer ours', async () => {
    const path = lockPath();
    const lock = await acquireLock(path, { timeoutMs: 0 });
    await rm(path);
    await writeFile(path, JSON.stringify({ pid: 1, command: 'other' }));
    await lock.release();
    assert.equal(JSON.parse(await readFile(path, 'utf8')).command, 'other');
  });

  it('reports a lock file it cannot create as a UserError', async () => {
    await assert.rejects(acquireLock(join(dir, 'no-such-dir', 'plex.yaml.lock'), { timeoutMs: 0 }), UserError);
  });

  for (const stale of [false, true]) {
    it(`excludes ten processes from each other${stale ? ', starting from a stale lock' : ''}`, async () => {
      const path = lockPath();
      const shared = join(dir, `counter-${counter}.txt`);
      const log = join(dir, `log-${counter}.txt`);
      await writeFile(shared, '0');
      await writeFile(log, '');
      if (stale) await writeFile(path, JSON.stringify({ pid: await deadPid(), started: new Date().toISOString(), command: 'x' }));
      const script = join(dir, `worker-${counter}.mjs`);
      await writeFile(
        script,
        `import { acquireLock } from ${JSON.stringify(moduleUrl)};
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
const [path, shared, log] = process.argv.slice(2);
const lock = await acquireLock(path, { timeoutMs: 30000, pollMs: 2 });
const n = Number(await readFile(shared, 'utf8'));
await sleep(5);
await writeFile(shared, String(n + 1));
await appendFile(log, process.pid + '\\n');
await lock.release();
`,
      );
      const results = await Promise.all(Array.from({ length: 10 }, () => run([script, path, shared, log])));
      for (const result of results) assert.equal(result.code, 0, result.stderr);
      assert.equal(await readFile(shared, 'utf8'), '10');
      const pids = (await readFile(log, 'utf8')).trim().split('\n');
      assert.equal(new Set(pids).size, 10);
      assert.equal(await exists(path), false);
    });
  }
});
