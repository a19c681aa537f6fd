/** Listing processes from /proc: real processes started by the test, and the parsers on fixed text. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  commandLine,
  listProcesses,
  parseCmdline,
  parseStat,
  parseStatus,
  processIdentity,
  startTimeMs,
  type ProcessInfo,
} from '../src/system/processes.js';

const children: ChildProcess[] = [];
after(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
});

/** A child that stays until the test ends (killed in `after`). */
function start(file: string, args: string[]): ChildProcess {
  const child = spawn(file, args, { stdio: 'ignore' });
  children.push(child);
  return child;
}

async function find(pid: number | undefined, until: (p: ProcessInfo) => boolean = () => true): Promise<ProcessInfo> {
  // exec and argv rewrites happen just after spawn returns: look again until they show.
  for (let i = 0; i < 100; i++) {
    const p = (await listProcesses()).find((q) => q.pid === pid);
    if (p && until(p)) return p;
    await sleep(20);
  }
  assert.fail(`pid ${pid} not listed as expected`);
}

describe('listProcesses', () => {
  it('lists this process with its parent, owner, argv and start time', async () => {
    const me = await find(process.pid);
    assert.equal(me.ppid, process.ppid);
    assert.equal(me.uid, process.getuid?.());
    assert.equal(me.gid, process.getgid?.());
    assert.equal(me.euid, process.geteuid?.());
    assert.deepEqual(me.argv, [process.execPath, ...process.execArgv, ...process.argv.slice(1)]);
    assert.ok(me.threads >= 1);
    assert.ok(me.rssBytes > 1024 * 1024);
    // Started before now, and not before this test's own clock says Node started.
    const started = startTimeMs(me.startTicks);
    const nodeStarted = Date.now() - process.uptime() * 1000;
    assert.ok(Math.abs(started - nodeStarted) < 2000, `${started} vs ${nodeStarted}`);
  });

  it('lists a child sleep with its argv', async () => {
    const child = start('sleep', ['30']);
    const p = await find(child.pid, (q) => q.comm === 'sleep');
    assert.equal(p.ppid, process.pid);
    assert.deepEqual(p.argv, ['sleep', '30']);
    assert.equal(p.cmd, 'sleep 30');
  });

  it('shows a rewritten argv[0] as mod_wsgi leaves it: title, padding, then the other arguments', async () => {
    // argv[0] overwritten in place (at arg_start from /proc/self/stat) with a title padded by
    // spaces, as mod_wsgi's display-name does; argv[0] is Apache's path, as it is for a daemon.
    const script = [
      'import ctypes, time',
      'stat = open("/proc/self/stat").read(); arg_start = int(stat[stat.rindex(")") + 2:].split()[45])',
      'n = open("/proc/self/cmdline", "rb").read().index(b"\\0")',
      'ctypes.memmove(arg_start, b"(wsgi:ghost)".ljust(n, b" "), n)',
      'time.sleep(30)',
    ].join('\n');
    const child = spawn('/usr/bin/python3', ['-c', script, 'extra arg'], { stdio: 'ignore', argv0: '/usr/sbin/apache2' });
    children.push(child);
    const p = await find(child.pid, (q) => q.cmd.startsWith('(wsgi:'));
    assert.equal(p.argv[0], '(wsgi:ghost)     '); // padded to the length of /usr/sbin/apache2
    assert.deepEqual(p.argv.slice(-1), ['extra arg']);
    assert.ok(p.cmd.startsWith('(wsgi:ghost) '), p.cmd);
    assert.ok(p.cmd.endsWith(' extra arg'));
  });

  it('shows a title set with exec -a, with nothing trailing', async () => {
    const child = start('bash', ['-c', "exec -a '(wsgi:ghost2)' sleep 30"]);
    // Right at exec, comm is already "sleep" while the new argv may not be readable yet.
    const p = await find(child.pid, (q) => q.comm === 'sleep' && q.argv.length > 0);
    assert.deepEqual(p.argv, ['(wsgi:ghost2)', '30']);
    assert.equal(p.cmd, '(wsgi:ghost2) 30');
  });

  it('does not throw while processes come and go', async () => {
    const churn = Array.from({ length: 20 }, () => start('true', []));
    for (let i = 0; i < 20; i++) await listProcesses();
    await Promise.all(churn.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
    const listed = await listProcesses();
    for (const c of churn) assert.ok(!listed.some((p) => p.pid === c.pid && p.ppid === process.pid));
  });
});

describe('processIdentity', () => {
  it('gives the same start time as the listing, and nothing for a process that has exited', async () => {
    const me = await find(process.pid);
    assert.deepEqual(await processIdentity(process.pid), { pid: process.pid, startTicks: me.startTicks });
    const child = spawn('true', [], { stdio: 'ignore' });
    await once(child, 'exit');
    assert.equal(await processIdentity(child.pid ?? -1), undefined);
    assert.equal(await processIdentity(0), undefined);
    assert.equal(await processIdentity(-5), undefined);
  });

  it('counts a zombie as gone', async () => {
    // bash forks a child and execs sleep, which never reaps it: once the child (by then
    // /bin/true) exits, it stays a zombie. The delay keeps bash from reaping it before its exec.
    const parent = start('bash', ['-c', '(sleep 0.3; exec /bin/true) & exec sleep 30']);
    let zombie: ProcessInfo | undefined;
    for (let i = 0; i < 200 && !zombie; i++) {
      zombie = (await listProcesses()).find((p) => p.ppid === parent.pid && p.state === 'Z');
      if (!zombie) await sleep(20);
    }
    assert.ok(zombie, 'zombie listed');
    assert.deepEqual(zombie.argv, []);
    assert.equal(zombie.cmd, '[true]');
    assert.equal(await processIdentity(zombie.pid), undefined);
  });
});

describe('parsers', () => {
  it('reads stat fields after the last parenthesis', () => {
    const text = '4242 (a) b (c)) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 987654 10000 200 18446744073709551615\n';
    assert.deepEqual(parseStat(text), { comm: 'a) b (c)', state: 'S', ppid: 17, startTicks: 987654 });
    assert.equal(parseStat('garbage'), undefined);
  });

  it('reads real and effective ids, threads and VmRSS', () => {
    const text = 'Name:\tapache2\nUid:\t33\t0\t0\t0\nGid:\t34\t33\t33\t33\nVmRSS:\t    2048 kB\nThreads:\t7\n';
    assert.deepEqual(parseStatus(text), { uid: 33, euid: 0, gid: 34, egid: 33, threads: 7, rssBytes: 2048 * 1024 });
    assert.equal(parseStatus('Name:\tx\n'), undefined);
  });

  it('splits argv and drops padding NULs and spaces from cmd', () => {
    const argv = parseCmdline(Buffer.from('(wsgi:django1)   \0-k\0start\0\0\0'));
    assert.deepEqual(argv, ['(wsgi:django1)   ', '-k', 'start']);
    assert.equal(commandLine(argv, 'apache2'), '(wsgi:django1)    -k start');
    assert.deepEqual(parseCmdline(Buffer.from('(wsgi:x)      ')), ['(wsgi:x)      ']);
    assert.equal(commandLine(['(wsgi:x)      '], 'apache2'), '(wsgi:x)');
    assert.equal(commandLine([], 'kthreadd'), '[kthreadd]');
  });
});
