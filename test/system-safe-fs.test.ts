/**
 * Reading and trusting files as root: real symlinks, FIFOs, sockets, devices and directories
 * owned by `nobody` or writable by others, all in a temp directory removed afterwards.
 */
import assert from 'node:assert/strict';
import { chmod, chown, lchown, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { checkTrustedDirectory, checkTrustedFile, readRegularFile, shellQuote, UnsafePathError, type TrustProblem } from '../src/system/safe-fs.js';

const nobody = 65534;
const staffGid = 50;

let base: string;
before(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests chown files: run them as root');
  // Under /tmp itself (root-owned, sticky), not $TMPDIR: the sticky case is part of what is tested.
  base = await mkdtemp('/tmp/plexctl-safe-');
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

async function dir(name: string, mode = 0o755, uid = 0, gid = 0): Promise<string> {
  const path = `${base}/${name}`;
  await mkdir(path);
  await chmod(path, mode); // mkdir applies the umask, and would drop the sticky bit of a mode
  await chown(path, uid, gid);
  return path;
}

async function file(name: string, content: string, mode = 0o644, uid = 0, gid = 0): Promise<string> {
  const path = `${base}/${name}`;
  await writeFile(path, content);
  await chmod(path, mode);
  await chown(path, uid, gid);
  return path;
}

const brief = (problems: TrustProblem[]) => problems.map((p) => `${p.path}: ${p.reason} => ${p.fix}`);

describe('checkTrustedDirectory', () => {
  it('accepts a root-owned directory under the sticky /tmp, and a missing one below it', async () => {
    assert.deepEqual(await checkTrustedDirectory(base), []);
    assert.deepEqual(await checkTrustedDirectory(`${base}/not/yet/there`), []);
    assert.deepEqual(await checkTrustedDirectory('/etc'), []);
  });

  it('refuses a directory writable by all without the sticky bit, with the chmod that fixes it', async () => {
    const open = await dir('open', 0o777);
    const expected = [{ path: open, reason: 'is writable by group 0 (root) and by all users (mode 0777)', fix: `chmod go-w ${open}` }];
    assert.deepEqual(await checkTrustedDirectory(open), expected);
    // As an ancestor too, and for a missing directory below it.
    await mkdir(`${open}/sub`, { mode: 0o755 });
    assert.deepEqual(await checkTrustedDirectory(`${open}/sub`), expected);
    assert.deepEqual(await checkTrustedDirectory(`${open}/missing/deeper`), expected);
  });

  it('names the group that can write', async () => {
    const shared = await dir('shared', 0o775, 0, staffGid);
    assert.deepEqual(brief(await checkTrustedDirectory(shared)), [`${shared}: is writable by group 50 (staff) (mode 0775) => chmod go-w ${shared}`]);
  });

  it('refuses a directory owned by nobody, with the chown that fixes it, unless that uid is allowed', async () => {
    const owned = await dir('owned-by-nobody', 0o755, nobody, nobody);
    assert.deepEqual(await checkTrustedDirectory(owned), [{ path: owned, reason: 'is owned by uid 65534 (nobody)', fix: `chown root:root ${owned}` }]);
    assert.deepEqual(await checkTrustedDirectory(owned, { allowedUids: [nobody] }), []);
  });

  it('under the sticky /tmp: accepts an entry owned by root, refuses one owned by nobody', async () => {
    const byNobody = await mkdtemp('/tmp/plexctl-safe-nobody-');
    try {
      await chown(byNobody, nobody, nobody);
      assert.deepEqual(brief(await checkTrustedDirectory(byNobody)), [`${byNobody}: is owned by uid 65534 (nobody) => chown root:root ${byNobody}`]);
    } finally {
      await rm(byNobody, { recursive: true, force: true });
    }
  });

  it('refuses a sticky world-writable directory as the directory itself, and a missing entry in it', async () => {
    const sticky = await dir('sticky', 0o1777);
    const problems = await checkTrustedDirectory(sticky);
    assert.equal(problems.length, 1);
    assert.match(problems[0]?.reason ?? '', /writable by .*all users \(mode 1777; the sticky bit protects only the entries below it\)/);
    assert.equal(problems[0]?.fix, `install -d -m 0755 -o root -g root ${sticky}/plexctl and use that directory`);
    assert.equal((await checkTrustedDirectory('/tmp')).length, 1);

    const child = `${sticky}/child`;
    await mkdir(child, { mode: 0o755 });
    assert.deepEqual(await checkTrustedDirectory(child), []);
    assert.deepEqual(brief(await checkTrustedDirectory(`${sticky}/missing`)), [
      `${sticky}/missing: does not exist, and ${sticky} is writable by others: anyone could create it before root does => install -d -m 0755 -o root -g root ${sticky}/missing`,
    ]);
  });

  it('follows a root-owned symlink and checks where it leads; refuses one owned by someone else', async () => {
    const target = `${base}/owned-by-nobody`;
    await symlink(target, `${base}/link-to-nobody`);
    assert.deepEqual(brief(await checkTrustedDirectory(`${base}/link-to-nobody`)), [`${target}: is owned by uid 65534 (nobody) => chown root:root ${target}`]);

    await mkdir(`${base}/trusted`, { mode: 0o755 });
    await symlink('trusted', `${base}/rel-link`);
    assert.deepEqual(await checkTrustedDirectory(`${base}/rel-link`), []);
    await symlink('trusted', `${base}/link-by-nobody`);
    await lchown(`${base}/link-by-nobody`, nobody, nobody);
    assert.deepEqual(brief(await checkTrustedDirectory(`${base}/link-by-nobody/x`)), [
      `${base}/link-by-nobody: is a symbolic link owned by uid 65534 (nobody) => chown -h root:root ${base}/link-by-nobody`,
    ]);
  });

  it('applies .. after a symlink as the kernel does, not to the text', async () => {
    // link-to-child/.. is sticky (where the link leads, then up), not base (the text with link-to-child removed).
    await symlink(`${base}/sticky/child`, `${base}/link-to-child`);
    const problems = await checkTrustedDirectory(`${base}/link-to-child/..`);
    assert.deepEqual(problems.map((p) => p.path), [`${base}/sticky`]);
    assert.deepEqual(await checkTrustedDirectory(`${base}/link-to-child/../child/.`), []);
  });

  it('reports a symlink loop and a file in the way, without throwing', async () => {
    await symlink('loop-b', `${base}/loop-a`);
    await symlink('loop-a', `${base}/loop-b`);
    assert.match(brief(await checkTrustedDirectory(`${base}/loop-a`))[0] ?? '', /more than 40 symbolic links/);
    const plain = await file('plain', 'x');
    assert.deepEqual(brief(await checkTrustedDirectory(`${plain}/sub`)), [`${plain}: is a file, not a directory => choose another path, or move ${plain} away`]);
  });
});

describe('checkTrustedFile', () => {
  it('accepts a root-owned 0644 file in a trusted directory, and a missing one', async () => {
    const ok = await file('ok.conf', 'ok');
    assert.deepEqual(await checkTrustedFile(ok), []);
    assert.deepEqual(await checkTrustedFile(`${base}/missing.conf`), []);
    assert.deepEqual(await checkTrustedFile('/etc/passwd'), []);
  });

  it('refuses a file writable by others or owned by nobody', async () => {
    const ww = await file('ww.conf', 'x', 0o666);
    assert.deepEqual(brief(await checkTrustedFile(ww)), [`${ww}: is writable by group 0 (root) and by all users (mode 0666) => chmod go-w ${ww}`]);
    const theirs = await file('theirs.conf', 'x', 0o644, nobody, nobody);
    assert.deepEqual(brief(await checkTrustedFile(theirs)), [`${theirs}: is owned by uid 65534 (nobody) => chown root:root ${theirs}`]);
  });

  it('checks the directory chain too', async () => {
    assert.deepEqual((await checkTrustedFile(`${base}/open/f.conf`)).map((p) => p.fix), [`chmod go-w ${base}/open`]);
    assert.equal((await checkTrustedFile('/tmp/plexctl-not-there.conf')).length, 1, 'a file directly in /tmp');
  });

  it('follows a trusted symlink to its target and checks the target and its directories', async () => {
    await symlink('ok.conf', `${base}/ok-link.conf`);
    assert.deepEqual(await checkTrustedFile(`${base}/ok-link.conf`), []);
    await symlink(`${base}/theirs.conf`, `${base}/theirs-link.conf`);
    assert.deepEqual((await checkTrustedFile(`${base}/theirs-link.conf`)).map((p) => p.path), [`${base}/theirs.conf`]);
    await symlink('../open/f.conf', `${base}/trusted/into-open.conf`);
    assert.deepEqual((await checkTrustedFile(`${base}/trusted/into-open.conf`)).map((p) => p.path), [`${base}/open`]);
    await symlink('ok.conf', `${base}/nobody-link.conf`);
    await lchown(`${base}/nobody-link.conf`, nobody, nobody);
    assert.deepEqual((await checkTrustedFile(`${base}/nobody-link.conf`)).map((p) => p.fix), [`chown -h root:root ${base}/nobody-link.conf`]);
    // A directory on the way to both the link and its target is reported once.
    await symlink('f.conf', `${base}/open/f-link.conf`);
    assert.deepEqual((await checkTrustedFile(`${base}/open/f-link.conf`)).map((p) => p.path), [`${base}/open`]);
  });

  it('refuses a FIFO or directory where a file should be', async () => {
    await execa('mkfifo', [`${base}/check.fifo`]);
    assert.deepEqual((await checkTrustedFile(`${base}/check.fifo`)).map((p) => p.reason), ['is a FIFO (named pipe), not a regular file']);
    assert.deepEqual((await checkTrustedFile(`${base}/trusted/`)).map((p) => p.reason), ['names a directory, not a file']);
  });
});

describe('readRegularFile', () => {
  const unsafe = (path: string, reason: RegExp) => (error: unknown) => {
    assert.ok(error instanceof UnsafePathError, String(error));
    assert.equal(error.path, path);
    assert.match(error.reason, reason);
    assert.ok(error.message.includes(path), error.message);
    assert.ok(error.fix.length > 0);
    return true;
  };

  it('returns the content with mode, owner and identity from the descriptor', async () => {
    const path = await file('read.conf', 'hello\n', 0o640, nobody, staffGid);
    const read = await readRegularFile(path, { maxBytes: 1024 });
    const stats = await stat(path);
    assert.deepEqual(read, {
      content: Buffer.from('hello\n'),
      mode: 0o640,
      uid: nobody,
      gid: staffGid,
      mtimeMs: stats.mtimeMs,
      size: 6,
      dev: stats.dev,
      ino: stats.ino,
    });
  });

  it('returns undefined for a missing file, and refuses a nonsensical maxBytes', async () => {
    assert.equal(await readRegularFile(`${base}/no-such-file`, { maxBytes: 10 }), undefined);
    await assert.rejects(readRegularFile(`${base}/no-such-file`, { maxBytes: -1 }), RangeError);
    await assert.rejects(readRegularFile(`${base}/no-such-file`, { maxBytes: Number.NaN }), RangeError);
  });

  it('refuses a symlink, even to a good file', async () => {
    await symlink('read.conf', `${base}/read-link.conf`);
    await assert.rejects(readRegularFile(`${base}/read-link.conf`, { maxBytes: 1024 }), unsafe(`${base}/read-link.conf`, /^is a symbolic link$/));
  });

  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const fifo = `${base}/read.fifo`;
    await execa('mkfifo', [fifo]);
    const started = Date.now();
    await assert.rejects(readRegularFile(fifo, { maxBytes: 1024 }), unsafe(fifo, /FIFO/));
    assert.ok(Date.now() - started < 1000);
  });

  it('refuses a directory, a socket and /dev/zero, directly or through a symlink', async () => {
    await assert.rejects(readRegularFile(`${base}/trusted`, { maxBytes: 1024 }), unsafe(`${base}/trusted`, /^is a directory$/));
    await assert.rejects(readRegularFile('/dev/zero', { maxBytes: 1024 }), unsafe('/dev/zero', /^is a character device$/));
    await symlink('/dev/zero', `${base}/zero-link`);
    await assert.rejects(readRegularFile(`${base}/zero-link`, { maxBytes: 1024 }), unsafe(`${base}/zero-link`, /^is a symbolic link$/));
    const socketPath = `${base}/read.sock`;
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      await assert.rejects(readRegularFile(socketPath, { maxBytes: 1024 }), unsafe(socketPath, /^is a socket$/));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses a file over maxBytes before reading it, and accepts one of exactly maxBytes', async () => {
    const big = await file('big.conf', 'x'.repeat(101));
    await assert.rejects(readRegularFile(big, { maxBytes: 100 }), unsafe(big, /^is 101 bytes, more than the 100 allowed$/));
    assert.equal((await readRegularFile(big, { maxBytes: 101 }))?.content.length, 101);
    const large = await file('large.conf', 'y'.repeat(300_000));
    assert.equal((await readRegularFile(large, { maxBytes: 300_000 }))?.content.length, 300_000);
  });

  it('reads past a size fstat does not know, and stops one byte over maxBytes', async () => {
    // /proc files report size 0 and hold more: the same as a file that grew after the fstat.
    const status = await readRegularFile('/proc/self/status', { maxBytes: 1 << 20 });
    assert.equal(status?.size, 0);
    assert.match(status?.content.toString() ?? '', /^Name:/);
    await assert.rejects(readRegularFile('/proc/self/status', { maxBytes: 10 }), unsafe('/proc/self/status', /grew past the 10 bytes/));
  });
});

describe('shellQuote', () => {
  it('leaves plain paths alone and single-quotes the rest', () => {
    assert.equal(shellQuote('/srv/plex-1/a_b.conf'), '/srv/plex-1/a_b.conf');
    assert.equal(shellQuote("/srv/it's here"), `'/srv/it'\\''s here'`);
    assert.equal(shellQuote('/srv/$(id)'), `'/srv/$(id)'`);
  });
});
