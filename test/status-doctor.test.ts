/** plexctl status, doctor and schema: pure logic, then end to end on a live private Apache + mod_wsgi + Django. */
import assert from 'node:assert/strict';
import { appendFile, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  daemonOptionNames,
  identityOf,
  mayAccess,
  namesMissingFromBinary,
  parseLoadedModules,
  pathPrefixes,
  tlsCheck,
} from '../src/apache/doctor-checks.js';
import { isLoopback, parseListening } from '../src/apache/listening.js';
import { parseConfigTest } from '../src/apache/ctl.js';
import { buildStatus, formatStatus, formatUptime, isStale, readyPoolCheck, type StatusInput } from '../src/status/status.js';
import { clockToleranceMs as staleToleranceMs } from '../src/poll.js';
import { daemonPids, describeLive, makeTempDir, plexctl, repoRoot, startSite, type Site } from './helpers/e2e.js';

describe('status logic (pure)', () => {
  const base = (over: Partial<StatusInput> = {}): StatusInput => ({
    inventoryFile: '/srv/plex/plex.yaml',
    pidFile: '/run/apache2/apache2.pid',
    apache: { running: true, pid: 100 },
    groups: ['one', 'two', 'idle'],
    users: [
      { user: 'alice', group: 'one' },
      { user: 'bob', group: 'two' },
      { user: 'carol', group: 'two' },
    ],
    daemons: new Map([
      ['one', [{ pid: 101, startedAtMs: 10_000, rssBytes: 1000 }, { pid: 102, startedAtMs: 12_000, rssBytes: 500 }]],
      ['two', [{ pid: 103, startedAtMs: 10_000, rssBytes: 2000 }]],
    ]),
    mainScript: { path: '/w/site.wsgi', mtimeMs: 5_000 },
    groupScripts: new Map([
      ['one', { path: '/w/group-one.wsgi', mtimeMs: 5_000 }],
      ['two', { path: '/w/group-two.wsgi', mtimeMs: 10_000 + staleToleranceMs }],
      ['idle', { path: '/w/group-idle.wsgi' }],
    ]),
    drift: [],
    nowMs: 70_000,
    ...over,
  });

  it('each group\'s instance: in use, ready (an add restarts nothing), releasing, not initialised; and how many are ready', () => {
    const groups = ['one', 'two', 'idle', 'left', 'fresh'];
    const plain = buildStatus(base({ groups, inUse: new Set(['one', 'two', 'left']) }));
    assert.deepEqual(plain.groups.map((g) => [g.group, g.instance]), [['one', 'in use'], ['two', 'in use'], ['idle', 'ready'], ['left', 'releasing'], ['fresh', 'ready']]);
    assert.match(formatStatus(plain), /^Ready for new users: 2 groups$/m);
    const withInit = buildStatus(base({ groups, inUse: new Set(['one', 'two']), initialised: new Set(['one', 'two', 'idle']) }));
    assert.deepEqual(withInit.groups.map((g) => g.instance), ['in use', 'in use', 'ready', 'not initialised', 'not initialised']);
    const none = buildStatus(base({ groups: ['one'], inUse: new Set(['one']) }));
    assert.match(formatStatus(none), /Ready for new users: none: the next `user add` without --group fails/);
    const preparing = buildStatus(base({ groups: ['one', 'left'], inUse: new Set(['one', 'left']), users: [{ user: 'u', group: 'one' }] }));
    assert.match(formatStatus(preparing), /^Ready for new users: none; 1 empty group is still being prepared: `plexctl reconcile` finishes them$/m);
  });

  it('marks that cannot be read (not root): every instance unknown, and the ready line says to run as root', () => {
    const status = buildStatus(base({ groups: ['one', 'idle'], marksUnreadable: 'cannot read /d/.plexctl (EACCES): run as root' }));
    assert.deepEqual(status.groups.map((g) => g.instance), ['unknown', 'unknown']);
    assert.match(formatStatus(status), /^Ready for new users: unknown \(the marks of each instance are root's: run status as root\)$/m);
  });

  it('stale only beyond the 20 ms measuring error', () => {
    assert.equal(isStale(1020, 1000), false);
    assert.equal(isStale(1021, 1000), true);
    assert.equal(isStale(900, 1000), false);
  });

  it('one row per group: users, PIDs, summed memory, oldest uptime, state', () => {
    const report = buildStatus(base());
    assert.deepEqual(
      report.groups.map((g) => [g.group, g.state, g.pids, g.users, g.rssBytes, g.uptimeSeconds]),
      [
        ['one', 'running', [101, 102], ['alice'], 1500, 60],
        ['two', 'running', [103], ['bob', 'carol'], 2000, 60],
        ['idle', 'not running', [], [], null, null],
      ],
    );
    assert.deepEqual(report.drift, { inSync: true, files: [], error: null });
  });

  it('a group script or site.wsgi changed after a daemon started makes the group stale', () => {
    const groupScripts = new Map(base().groupScripts);
    groupScripts.set('two', { path: '/w/group-two.wsgi', mtimeMs: 10_021 });
    let report = buildStatus(base({ groupScripts }));
    assert.deepEqual(report.groups.map((g) => g.state), ['running', 'stale', 'not running']);
    assert.deepEqual(report.groups[1]!.stale.map((s) => [s.pid, s.script]), [[103, '/w/group-two.wsgi']]);
    // site.wsgi is imported by every group: only the daemon 101 started before it changed, but that makes `one` stale.
    report = buildStatus(base({ mainScript: { path: '/w/site.wsgi', mtimeMs: 11_000 } }));
    assert.deepEqual(report.groups.map((g) => g.state), ['stale', 'stale', 'not running']);
    assert.deepEqual(report.groups[0]!.stale.map((s) => s.pid), [101]);
    assert.match(formatStatus(report), /plexctl restart one two/);
  });

  it('Apache not running: every group is not running, whatever the daemon map says', () => {
    const report = buildStatus(base({ apache: { running: false, reason: 'no pid file at /x' } }));
    assert.deepEqual(report.apache, { running: false, reason: 'no pid file at /x', pidFile: '/run/apache2/apache2.pid' });
    assert.ok(report.groups.every((g) => g.state === 'not running' && g.pids.length === 0));
    assert.match(formatStatus(report), /^Apache: not running: no pid file at \/x$/m);
  });

  it('a stale group whose script differs from the inventory is told to reconcile, not restart (restart would load the wrong script)', () => {
    const groupScripts = new Map(base().groupScripts);
    groupScripts.set('one', { path: '/w/group-one.wsgi', mtimeMs: 20_000 });
    const drift = [{ action: 'update' as const, path: '/w/group-two.wsgi', kind: 'group-script' as const, group: 'two', before: 'a', after: 'b' }];
    const text = formatStatus(buildStatus(base({ groupScripts: new Map([...groupScripts, ['two', { path: '/w/group-two.wsgi', mtimeMs: 20_000 }]]), drift })));
    assert.match(text, /`plexctl restart one` starts them with the current scripts/, 'one: its script is the inventory\'s');
    assert.match(text, /`plexctl reconcile` writes the scripts the inventory renders for two and restarts them/);
    assert.doesNotMatch(text, /plexctl restart [^`]*two/);
    assert.match(text, /`plexctl reconcile` writes them and restarts what loads them/, 'the Files line says reconcile too');
    assert.doesNotMatch(text, /plexctl render/);
    // site.wsgi differing concerns every group.
    const site = [{ action: 'update' as const, path: '/w/site.wsgi', kind: 'main-script' as const, before: 'a', after: 'b' }];
    const every = formatStatus(buildStatus(base({ groupScripts: new Map([...groupScripts, ['two', { path: '/w/group-two.wsgi', mtimeMs: 20_000 }]]), drift: site })));
    assert.doesNotMatch(every, /plexctl restart/);
    assert.match(every, /for one, two and restarts them/);
  });

  it('drift and uptime formatting', () => {
    const report = buildStatus(base({ drift: [{ action: 'update', path: '/w/procmap.txt', kind: 'procmap', before: 'a', after: 'b' }] }));
    assert.deepEqual(report.drift, { inSync: false, files: [{ action: 'update', path: '/w/procmap.txt', kind: 'procmap', group: null }], error: null });
    assert.match(formatStatus(report), /~ update \/w\/procmap\.txt \(procmap\)/);
    assert.deepEqual([45, 125, 3 * 3600 + 240, 2 * 86400 + 3 * 3600].map(formatUptime), ['45s', '2m05s', '3h04m', '2d03h']);
  });
});

describe('doctor helpers (pure)', () => {
  it('reads the LISTEN sockets of a process from /proc/net/tcp and tcp6 (by inode), and tells loopback from the rest', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0',
      '   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1002 1 0000000000000000 100 0 0 10 0',
      '   2: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 1003 1 0000000000000000 20 4 30 10 -1',
      '   3: 0A00020F:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9999 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    const tcp6 = [
      '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2001 1 0000000000000000 100 0 0 10 0',
      '   1: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2002 1 0000000000000000 100 0 0 10 0',
      '   2: 0000000000000000FFFF00000100007F:1F92 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2003 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    const mine = new Set(['1001', '1002', '1003', '2001', '2002', '2003']);
    assert.deepEqual(parseListening(tcp, mine), [{ address: '127.0.0.1', port: 8080 }, { address: '0.0.0.0', port: 80 }], 'only LISTEN rows, only its own inodes');
    assert.deepEqual(parseListening(tcp6, mine), [{ address: '::1', port: 8081 }, { address: '::', port: 80 }, { address: '::ffff:127.0.0.1', port: 8082 }]);
    assert.deepEqual(['127.0.0.1', '127.3.4.5', '::1', '::ffff:127.0.0.1', '0.0.0.0', '::', '10.0.2.15', '::ffff:10.0.2.15'].map(isLoopback), [true, true, true, true, false, false, false, false]);
  });

  it('TLS: warns when Apache listens off loopback and the site is not marked TLS; ok on loopback, with tls: true, or when it cannot look', () => {
    const open = tlsCheck(false, 'basic', [{ address: '127.0.0.1', port: 8080 }, { address: '0.0.0.0', port: 80 }, { address: '::', port: 80 }]);
    assert.equal(open.status, 'warn');
    assert.match(open.detail, /^Apache listens on 0\.0\.0\.0:80, \[::\]:80 and the site is not marked TLS \(apache\.tls: false\): Basic auth sends the password with every request/);
    assert.match(open.hint!, /apache\.site_file.*apache\.tls: true/);
    assert.match(tlsCheck(false, 'form', [{ address: '10.0.2.15', port: 80 }]).detail, /form login sends the password, then the session cookie/);
    assert.equal(tlsCheck(false, 'basic', [{ address: '127.0.0.1', port: 8080 }]).status, 'ok');
    assert.equal(tlsCheck(true, 'basic', [{ address: '0.0.0.0', port: 80 }]).status, 'ok');
    assert.match(tlsCheck(false, 'basic', { notChecked: 'Apache is not running' }).detail, /^not checked: Apache is not running$/);
    assert.match(tlsCheck(false, 'basic', []).detail, /^not checked: no listening TCP socket/, 'nothing seen is not "safe"');
  });

  it('ready pool: ok with the count of ready groups; warns when none is ready, saying whether empty groups are being prepared or all have users', () => {
    const users = new Map([['one', 2], ['two', 1]]);
    const count = (g: string) => users.get(g) ?? 0;
    const fine = readyPoolCheck(['one', 'two', 'idle'], count, { inUse: new Set(['one', 'two']) });
    assert.deepEqual([fine.status, fine.detail], ['ok', '1 of 3 groups ready for new users (a user add into one restarts nothing)']);
    const preparing = readyPoolCheck(['one', 'idle'], count, { inUse: new Set(['one']), initialised: new Set(['one']) });
    assert.equal(preparing.status, 'warn');
    assert.match(preparing.detail, /1 empty group is still being prepared/);
    assert.match(preparing.hint!, /plexctl reconcile/);
    const full = readyPoolCheck(['one', 'two'], count, { inUse: new Set(['one', 'two']) });
    assert.match(full.detail, /all 2 have users, so the next `user add` without --group fails/);
    assert.match(full.hint!, /add groups/);
    const unreadable = readyPoolCheck(['one'], count, { marksUnreadable: 'cannot read /d/.plexctl (EACCES): run as root' });
    assert.deepEqual([unreadable.status, unreadable.detail], ['ok', 'not checked: cannot read /d/.plexctl (EACCES): run as root']);
  });

  it('parses `apache2 -t -D DUMP_INCLUDES` (as Apache 2.4.71 prints it): the included files, the messages, the file Apache rejected', () => {
    const passed = parseConfigTest(
      'Included configuration files:\n  (*) /srv/plex/.plexctl/serve/httpd.conf\n    (24) /srv/plex/build/plex.conf\n      (3) /srv/plex/build/plex.conf.session-key\nAH00558: apache2: Could not reliably determine the server\'s fully qualified domain name',
    );
    assert.deepEqual(passed.includes, ['/srv/plex/.plexctl/serve/httpd.conf', '/srv/plex/build/plex.conf', '/srv/plex/build/plex.conf.session-key']);
    assert.equal(passed.messages, 'AH00558: apache2: Could not reliably determine the server\'s fully qualified domain name');
    assert.equal(passed.rejected, undefined);
    const failed = parseConfigTest(
      'Included configuration files:\n  (*) /etc/apache2/apache2.conf\n    (222) /etc/apache2/conf-enabled/broken.conf\nAH00526: Syntax error on line 1 of /etc/apache2/conf-enabled/broken.conf:\nInvalid command \'Bogus\', perhaps misspelled or defined by a module not included in the server configuration',
    );
    assert.deepEqual(failed.includes, ['/etc/apache2/apache2.conf', '/etc/apache2/conf-enabled/broken.conf']);
    assert.deepEqual(failed.rejected, { file: '/etc/apache2/conf-enabled/broken.conf', line: 1 });
    assert.match(failed.messages, /^AH00526: Syntax error on line 1 of \/etc\/apache2\/conf-enabled\/broken\.conf:\nInvalid command 'Bogus'/);
    assert.deepEqual(parseConfigTest('AH00526: Syntax error on line 7 of plex.conf:\nnope').rejected, { file: 'plex.conf', line: 7 }, 'without a listing, and a relative path');
  });


  it('parses apache2 -M', () => {
    const modules = parseLoadedModules('Loaded Modules:\n core_module (static)\n wsgi_module (shared)\n auth_basic_module (shared)\n');
    assert.deepEqual([...modules], ['core', 'wsgi', 'auth_basic']);
  });

  it('option names are searched as NUL-terminated strings in the module', () => {
    const binary = Buffer.from('\0x\0maximum-requests\0threads\0display-name\0', 'ascii');
    assert.deepEqual(namesMissingFromBinary(['maximum-requests', 'threads', 'display-name', 'thread', 'bogus'], binary), ['thread', 'bogus']);
    assert.deepEqual(
      daemonOptionNames({ defaults: { processes: 1 }, groups: [{ name: 'a', env: [], settings: [], daemon: { threads: 2 } }] }),
      ['display-name', 'processes', 'threads'],
    );
  });

  it('permissions follow the owner, then group, then other rule', () => {
    const who = identityOf('www-data', 'root:x:0:0::/root:/bin/sh\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n', 'www-data:x:33:\nsite:x:1001:alice,www-data\n')!;
    assert.deepEqual(who, { uid: 33, gids: new Set([33, 1001]) });
    const dir = (mode: number, uid: number, gid: number) => ({ mode: 0o040000 | mode, uid, gid });
    assert.equal(mayAccess(dir(0o755, 0, 0), who, 1), true);
    assert.equal(mayAccess(dir(0o750, 0, 0), who, 1), false);
    assert.equal(mayAccess(dir(0o750, 0, 1001), who, 1), true);
    assert.equal(mayAccess(dir(0o705, 33, 0), who, 1), true);
    assert.equal(mayAccess(dir(0o075, 33, 0), who, 1), false, 'the owner bits apply to the owner, even when others may');
    assert.deepEqual(pathPrefixes('/a/b/c'), ['/', '/a', '/a/b', '/a/b/c']);
  });
});

describe('plexctl schema', () => {
  it('prints the schema as JSON with properties.groups', async () => {
    const r = await plexctl(['schema'], { cwd: repoRoot });
    assert.equal(r.exitCode, 0, r.stderr);
    const schema = JSON.parse(r.stdout);
    assert.equal(schema.properties.groups.type, 'object');
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.match(r.stdout, /^\{\n {2}"\$schema"/, '2-space indent');
  });
});

const spec = {
  groups: {
    alpha: { settings: { GREETING: 'alpha' } },
    beta: { settings: { GREETING: 'beta' } },
    spare: {},
  },
  users: { alice: 'alpha', bob: 'beta', carol: 'beta' },
};
const groups = Object.keys(spec.groups);

interface StatusJson {
  apache: { running: boolean; pid?: number; reason?: string };
  groups: { group: string; state: string; users: string[]; pids: number[]; rssBytes: number | null; uptimeSeconds: number | null }[];
  drift: { inSync: boolean | null; files: { action: string; path: string; kind: string }[] };
}

await describeLive('status and doctor on a live server', { timeout: 180_000 }, () => {
  let site: Site | undefined;
  const wsgi = (name: string) => join(site!.dir, 'build', 'wsgi', name);
  async function status(): Promise<StatusJson> {
    const r = await site!.cli(['status', '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    return JSON.parse(r.stdout);
  }

  before(async () => {
    site = await startSite(spec);
  });
  after(async () => site?.stop());

  it('lists every group running, with its daemons (as in /proc), users and memory; no drift', async (t) => {
    if (!site) return t.skip('no Apache');
    const parent = await site.parentPid();
    const report = await status();
    assert.deepEqual(report.apache, { running: true, pid: parent, pidFile: join(site.dir, '.plexctl/serve/run/httpd.pid') });
    assert.deepEqual(report.groups.map((g) => g.group), groups);
    for (const g of report.groups) {
      assert.equal(g.state, 'running', g.group);
      assert.deepEqual(g.pids, await daemonPids(parent, g.group), g.group);
      assert.equal(g.pids.length, 1, 'processes: 1');
      assert.ok(g.rssBytes !== null && g.rssBytes > 0, `${g.group} RSS`);
      assert.ok(g.uptimeSeconds !== null && g.uptimeSeconds >= 0 && g.uptimeSeconds < 600);
      assert.deepEqual(g.users, Object.entries(spec.users).filter(([, grp]) => grp === g.group).map(([u]) => u));
    }
    assert.deepEqual(report.drift, { inSync: true, files: [], error: null });
    const text = await site.cli(['status']);
    assert.equal(text.exitCode, 0);
    assert.match(text.stdout, new RegExp(`^Apache: running, parent pid ${parent} `, 'm'));
    for (const g of report.groups) assert.match(text.stdout, new RegExp(`^${g.group}\\s+running\\s+${g.users.length > 0 ? 'in use' : 'ready'}\\s+${g.pids.join(',')}\\s`, 'm'));
    assert.match(text.stdout, /^beta .* bob, carol$/m);
    assert.match(text.stdout, /^Ready for new users: 1 group$/m);
    assert.match(text.stdout, /^Files: every managed file matches the inventory$/m);
  });

  it('a group script touched after its daemon started: that group is stale, the others are not; restart clears it', async (t) => {
    if (!site) return t.skip('no Apache');
    const now = new Date();
    await utimes(wsgi('group-beta.wsgi'), now, now);
    let report = await status();
    assert.deepEqual(
      report.groups.map((g) => [g.group, g.state]),
      [['alpha', 'running'], ['beta', 'stale'], ['spare', 'running']],
    );
    assert.deepEqual(report.drift.files, [], 'touching is not drift: the content is the same');
    const text = await site.cli(['status']);
    assert.match(text.stdout, /^stale: beta: daemon \d+ started before .*group-beta\.wsgi last changed$/m);
    assert.match(text.stdout, /`plexctl restart beta`/);
    const restarted = await site.cli(['restart', 'beta']);
    assert.equal(restarted.exitCode, 0, restarted.stderr + restarted.stdout);
    report = await status();
    assert.deepEqual(report.groups.map((g) => g.state), ['running', 'running', 'running']);
  });

  it('procmap.txt edited by hand is reported as drift, by name; render puts it back', async (t) => {
    if (!site) return t.skip('no Apache');
    await appendFile(wsgi('procmap.txt'), 'mallory alpha\n');
    const report = await status();
    assert.equal(report.drift.inSync, false);
    assert.deepEqual(report.drift.files.map((f) => [f.action, f.path, f.kind]), [['update', wsgi('procmap.txt'), 'procmap']]);
    const text = await site.cli(['status']);
    assert.equal(text.exitCode, 0, 'status is informational');
    assert.match(text.stdout, /^Files: 1 managed file differs from the inventory/m);
    assert.ok(text.stdout.includes(`~ update ${wsgi('procmap.txt')} (procmap)`), text.stdout);
    assert.equal((await site.cli(['render'])).exitCode, 0);
    assert.equal((await status()).drift.inSync, true);
  });

  it('doctor on the live site: every check ok, exit 0', async (t) => {
    if (!site) return t.skip('no Apache');
    const r = await site.cli(['doctor']);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    const checks = lines.filter((l) => /^(ok|FAIL|warn) /.test(l));
    assert.ok(checks.length >= 9, r.stdout);
    assert.deepEqual(checks.filter((l) => !l.startsWith('ok ')), [], r.stdout);
    for (const name of ['Apache', 'modules', 'mod_wsgi', 'Python', 'Django', 'pid file', 'signals', 'writable', 'daemon options', 'TLS', 'ready pool']) {
      assert.ok(checks.some((l) => new RegExp(`^ok\\s+${name}\\s`).test(l)), `${name}: ${r.stdout}`);
    }
    assert.match(r.stdout, /\/usr\/sbin\/apache2 -f \S+\/\.plexctl\/serve\/httpd\.conf -M/);
    assert.match(r.stdout, new RegExp(`Apache parent pid ${await site.parentPid()}`));
    // The private server listens on 127.0.0.1 only, read from its sockets; spare has nobody.
    assert.match(r.stdout, new RegExp(`^ok\\s+TLS\\s+Apache listens on loopback only \\(127\\.0\\.0\\.1:${site.port}\\)`, 'm'));
    assert.match(r.stdout, /^ok\s+ready pool\s+1 of 3 groups ready for new users/m);
    assert.match(lines.at(-1)!, /^All \d+ checks ok\.$/);
  });

  it('doctor with a pid file naming a live process that is not Apache: FAIL, exit 1, and that process gets no signal', async (t) => {
    if (!site) return t.skip('no Apache');
    const tmp = await makeTempDir();
    const pidFile = join(tmp, 'not-apache.pid');
    await writeFile(pidFile, `${process.pid}\n`);
    const text = await readFile(join(site.dir, 'plex.yaml'), 'utf8');
    const edited = text.replace(/^ {2}pid_file: .*$/m, `  pid_file: ${JSON.stringify(pidFile)}`);
    assert.notEqual(edited, text);
    await writeFile(join(site.dir, 'plex-badpid.yaml'), edited);
    const received: string[] = [];
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;
    const handlers = signals.map((s) => [s, () => received.push(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    try {
      const r = await site.cli(['-i', 'plex-badpid.yaml', 'doctor']);
      assert.equal(r.exitCode, 1, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`^FAIL\\s+pid file\\s+pid ${process.pid} from ${pidFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not Apache`, 'm'));
      assert.match(r.stdout, /fix: the pid file is stale/);
      assert.doesNotMatch(r.stdout, /^ok\s+signals/m, 'no permission probe to a process that is not Apache');
      const s = await site.cli(['-i', 'plex-badpid.yaml', 'status', '--json']);
      assert.equal(s.exitCode, 0);
      const report: StatusJson = JSON.parse(s.stdout);
      assert.equal(report.apache.running, false);
      assert.match(report.apache.reason!, /is not Apache/);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(received, [], 'no signal reached the test process');
    } finally {
      for (const [s, h] of handlers) process.off(s, h);
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('after serve --stop: Apache not running, every group not running, exit 0', async (t) => {
    if (!site) return t.skip('no Apache');
    const stopped = await site.cli(['serve', '--stop']);
    assert.equal(stopped.exitCode, 0, stopped.stderr);
    const report = await status();
    assert.equal(report.apache.running, false);
    assert.ok(report.apache.reason, 'says why');
    assert.deepEqual(report.groups.map((g) => [g.group, g.state, g.pids]), groups.map((g) => [g, 'not running', []]));
    const text = await site.cli(['status']);
    assert.equal(text.exitCode, 0);
    assert.match(text.stdout, /^Apache: not running: /m);
  });
});
