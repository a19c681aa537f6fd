/**
 * Bad inventories and bad command lines through the built CLI (issue "Hostile input and faults",
 * item 2). Each case starts from a temp directory holding a valid rendered setup (`render`, and
 * `user passwd` for one user), then puts its bad inventory in place (or uses a bad command line).
 * For every case: the exit code is 1, stderr names the problem, it is not an internal error, and
 * no file under the directory changed (sha256, size, mode and mtime of every file, recursively,
 * compared before and after the command; no file appeared or disappeared).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { access, chmod, lstat, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { execa } from 'execa';
import { loadInventory } from '../src/inventory/load.js';
import { setPassword } from '../src/lifecycle/passwords.js';
import { writeGeneratedFiles as render } from '../src/apply/write-generated-files.js';
import { inventoryYaml, makeTempDir, plexctl, repoRoot, type CliResult } from './helpers/e2e.js';

const bin = join(repoRoot, 'bin', 'plexctl.js');

/** The valid inventory every case starts from: two groups, two users, env and settings. */
const VALID = inventoryYaml({
  groups: { g1: { env: { A: '1' }, settings: { GREETING: 'hi' } }, g2: {} },
  users: { alice: 'g1', bob: 'g2' },
});

/** VALID with `from` (which must occur exactly once) replaced by `to`. */
function edit(from: string, to: string): string {
  const at = VALID.indexOf(from);
  if (at < 0 || VALID.indexOf(from, at + 1) >= 0) throw new Error(`test bug: ${JSON.stringify(from)} must occur once in the valid inventory`);
  return VALID.slice(0, at) + to + VALID.slice(at + from.length);
}

/** VALID with its `users:` section replaced. */
const withUsers = (lines: string) => edit('users:\n  alice: g1\n  bob: g2\n', `users:\n${lines}`);
/** VALID with a text appended under group g2 (indented as its body). */
const underG2 = (body: string) => edit('  g2:\n', `  g2:\n${body}`);

/** Deterministic bytes (xorshift32), with NUL and invalid UTF-8 guaranteed. */
function garbage(length: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  out[10] = 0x00;
  out[20] = 0xff;
  out[30] = 0xc3; // a lead byte followed by ASCII: invalid
  out[31] = 0x41;
  return out;
}

const billionLaughs = [
  '    settings:',
  '      A: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  '      B: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
  '      C: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
  '      D: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  '      E: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  '      F: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
  '      G: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
  '      H: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]',
  '      I: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]',
  '',
].join('\n');

interface Case {
  name: string;
  /** The bad inventory, written over plex.yaml before the snapshot. */
  inventory?: string | Buffer | (() => Buffer);
  /** Anything else to put in place before the snapshot. */
  setup?: (dir: string) => Promise<void>;
  /** Default: `render`, the command that writes every generated file. */
  args?: string[];
  input?: string;
  env?: Record<string, string>;
  /** Every pattern must match stderr. */
  stderr: RegExp | RegExp[];
  /** Nothing to do rather than refused: this exit code (default 1), and stdout must match. */
  exitCode?: 0;
  stdout?: RegExp;
  /** The command must be refused within this many milliseconds (a refusal that is not a crash, and fast). */
  maxMs?: number;
  /** Run the CLI in another way (as another user); `{ skip }` skips the case, with the reason. */
  run?: (dir: string, args: string[]) => Promise<CliResult | { skip: string }>;
  /** stderr must not carry raw control characters from the input (terminal escapes, extra lines). */
  cleanStderr?: boolean;
  /** src/ behaves wrongly: the reason. */
  todo?: string;
}

const userMessage = /a user name must not contain whitespace, ":" or control characters, nor start with "#"/;
const apacheTextMessage = /must not contain a double quote, a backslash, a control character, "\$\{" or "%\{"/;

const cases: Case[] = [
  // ---- the inventory's structure ----
  { name: 'a user mapped to an unknown group', inventory: withUsers('  alice: nosuch\n  bob: g2\n'), stderr: /plex\.yaml:\d+:\d+: users\.alice: group "nosuch" is not defined under groups/ },
  { name: 'a duplicate user', inventory: withUsers('  alice: g1\n  bob: g2\n  alice: g2\n'), stderr: /plex\.yaml:24:3: users\.alice: duplicate key "alice": each key may appear once/ },
  { name: 'an empty pool (groups: {})', inventory: edit('  g1:\n    env: {"A":"1"}\n    settings: {"GREETING":"hi"}\n  g2:\n', '  {}\n').replace('groups:\n  {}', 'groups: {}'), stderr: [/: groups: needs at least 1 entry/, /users\.alice: group "g1" is not defined under groups/] },
  { name: 'no groups key at all', inventory: edit('groups:\n  g1:\n    env: {"A":"1"}\n    settings: {"GREETING":"hi"}\n  g2:\n', ''), stderr: /\(document\): missing required key "groups"/ },
  { name: 'a group name of 11 characters', inventory: edit('  g1:\n', '  abcdefghijk:\n').replace('alice: g1', 'alice: abcdefghijk'), stderr: /groups\.abcdefghijk: is 11 characters long; at most 10 are allowed/ },
  { name: 'a user name of 65 characters', inventory: withUsers(`  ${'u'.repeat(65)}: g1\n`), stderr: new RegExp(`users\\.${'u'.repeat(65)}: is 65 characters long; at most 64 are allowed`) },
  { name: 'a group name starting with a digit', inventory: edit('  g2:\n', '  2g:\n').replace('bob: g2', 'bob: 2g'), stderr: /groups\.2g: a group name starts with a letter/ },
  { name: 'a user name with a space', inventory: withUsers('  "eve smith": g1\n'), stderr: [/users\["eve smith"\]: /, userMessage] },
  { name: 'a user name starting with "#"', inventory: withUsers('  "#eve": g1\n'), stderr: [/users\["#eve"\]: /, userMessage] },
  { name: 'a user name with ":"', inventory: withUsers('  "eve:x": g1\n'), stderr: [/users\["eve:x"\]: /, userMessage] },
  { name: 'a user name with a C1 control (U+0085)', inventory: withUsers('  "eve\\x85": g1\n'), stderr: [/users\["eve\\u0085"\]: /, userMessage] },
  { name: 'a user name with a newline', inventory: withUsers('  "eve\\nx": g1\n'), stderr: [/users\["eve\\nx"\]: /, userMessage] },
  { name: 'an unknown key under a group (did you mean)', inventory: edit('    settings: {"GREETING":"hi"}\n', '    sttings: {"GREETING":"hi"}\n'), stderr: /groups\.g1\.sttings: unknown key "sttings" \(did you mean "settings"\?\)/ },
  { name: 'a missing settings_module', inventory: edit('  settings_module: demo.settings\n', ''), stderr: /plex\.yaml:\d+:\d+: site: missing required key "settings_module"/ },
  { name: 'restart_signal: SIGKILL', inventory: edit('  realm: "plex test"\n', '  realm: "plex test"\n  restart_signal: SIGKILL\n'), stderr: /apache\.restart_signal: must be one of SIGINT, SIGTERM, SIGUSR1, found the string "SIGKILL"/ },
  { name: 'a daemon option display-name (plexctl sets it)', inventory: underG2('    daemon: {display-name: x}\n'), stderr: /groups\.g2\.daemon\.display-name: unknown key "display-name"/ },
  { name: 'a negative thread count', inventory: edit('  threads: 3\n', '  threads: -3\n'), stderr: /defaults\.threads: must be at least 0, found -3/ },
  {
    name: 'wrong types everywhere',
    inventory: [
      'site: {mount: 5, python_path: lib, settings_module: [demo]}',
      'apache: {conf_file: 1, wsgi_dir: true, user_file: null, realm: {}, ctl: x, restart_signal: 9}',
      'defaults: {processes: "one", threads: 1.5}',
      'groups:',
      '  g1: [a]',
      '  g2: {env: [A], settings: x, daemon: 3}',
      'users: [alice]',
      '',
    ].join('\n'),
    stderr: [
      /:1:15: site\.mount: expected a string, found 5/,
      /site\.python_path: expected a list, found the string "lib"/,
      /site\.settings_module: expected a string, found a list/,
      /apache\.conf_file: expected a string, found 1/,
      /apache\.wsgi_dir: expected a string, found true/,
      /apache\.user_file: expected a string, found nothing/,
      /apache\.realm: expected a string, found a mapping/,
      /apache\.ctl: expected a list, found the string "x"/,
      /apache\.restart_signal: must be one of SIGINT, SIGTERM, SIGUSR1, found 9/,
      /defaults\.processes: expected an integer, found the string "one"/,
      /defaults\.threads: expected an integer, found 1\.5/,
      /groups\.g1: expected a mapping, found a list/,
      /groups\.g2\.env: expected a mapping, found a list/,
      /groups\.g2\.settings: expected a mapping, found the string "x"/,
      /groups\.g2\.daemon: expected a mapping, found 3/,
      /users: expected a mapping, found a list/,
      /plexctl: 16 problems in the inventory; nothing was written/,
    ],
  },
  { name: 'a top-level list', inventory: '- site\n- apache\n', stderr: /plex\.yaml:1:1: \(document\): expected a mapping, found a list/ },
  { name: 'an empty file', inventory: '', stderr: /plex\.yaml:1:1: \(document\): expected a mapping, found nothing/ },
  { name: 'a YAML syntax error (unclosed flow mapping)', inventory: edit('    env: {"A":"1"}\n', '    env: {"A":"1"\n'), stderr: /plex\.yaml:\d+:\d+: .*YAML: / },
  { name: 'two YAML documents', inventory: `${VALID}---\nsite: {}\n`, stderr: /YAML: Source contains multiple documents/ },
  { name: 'an alias to an undefined anchor', inventory: edit('  threads: 3\n', '  threads: *nowhere\n'), stderr: /YAML: .*nowhere/ },
  { name: 'a YAML alias bomb (billion laughs) in settings', inventory: underG2(billionLaughs), stderr: /\(document\): YAML: Excessive alias count indicates a resource exhaustion attack/, maxMs: 10_000 },
  { name: 'flow collections nested 50000 deep', inventory: `${VALID}x: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`, stderr: /YAML: Maximum call stack size exceeded|YAML: .*(nest|depth)/i, maxMs: 20_000 },

  // ---- values that Apache, Python or the OS cannot carry ----
  { name: 'an env value with NUL', inventory: edit('    env: {"A":"1"}\n', '    env: {"A":"a\\0b"}\n'), stderr: /groups\.g1\.env\.A: an environment value cannot contain a NUL character/ },
  { name: 'an env value with a lone surrogate', inventory: edit('    env: {"A":"1"}\n', '    env: {"A":"a\\ud800"}\n'), stderr: /groups\.g1\.env\.A: contains a lone UTF-16 surrogate/ },
  { name: 'an env name that is not an identifier', inventory: edit('    env: {"A":"1"}\n', '    env: {"1A-B":"1"}\n'), stderr: /groups\.g1\.env\.1A-B: an environment variable name has only letters, digits and "_"/ },
  { name: 'an env value that is a mapping', inventory: edit('    env: {"A":"1"}\n', '    env: {"A": {"b": 1}}\n'), stderr: /groups\.g1\.env\.A: expected a string or a number, found a mapping/ },
  { name: 'a lower-case settings name', inventory: edit('    settings: {"GREETING":"hi"}\n', '    settings: {"greeting":"hi"}\n'), stderr: /groups\.g1\.settings\.greeting: Django only reads UPPER_CASE settings/ },
  { name: 'a settings value with a lone surrogate', inventory: edit('    settings: {"GREETING":"hi"}\n', '    settings: {"GREETING":["\\udc00"]}\n'), stderr: /groups\.g1\.settings\.GREETING\[0\]: contains a lone UTF-16 surrogate/ },
  { name: 'a mount with a trailing slash', inventory: edit('  mount: /\n', '  mount: /app/\n'), stderr: /site\.mount: must be "\/" or a path like "\/app"/ },
  { name: 'a conf_file with "${"', inventory: edit('  conf_file: build/plex.conf\n', '  conf_file: build/${HOME}.conf\n'), stderr: [/apache\.conf_file: /, /must not contain a double quote, a backslash, .*"\$\{"/] },
  { name: 'a realm with "%{"', inventory: edit('  realm: "plex test"\n', '  realm: "plex %{REMOTE_USER}"\n'), stderr: [/apache\.realm: /, /must not contain a double quote, a backslash, "\$", "%"/] },
  { name: 'a user_file with a double quote', inventory: edit('  user_file: build/htpasswd\n', '  user_file: \'build/"htpasswd\'\n'), stderr: [/apache\.user_file: /, apacheTextMessage] },
  { name: 'a wsgi_dir with "*"', inventory: edit('  wsgi_dir: build/wsgi\n', '  wsgi_dir: build/wsgi*\n'), stderr: /apache\.wsgi_dir: must not contain a double quote, a backslash, "\*", "\?", "\[", "\]"/ },
  { name: 'a python_path item with a newline', inventory: edit('  python_path: [', '  python_path: ["a\\nb", '), stderr: /site\.python_path\[0\]: must not contain control characters/ },
  { name: 'a daemon option value with a backslash', inventory: underG2('    daemon: {home: "C:\\\\srv"}\n'), stderr: [/groups\.g2\.daemon\.home: /, apacheTextMessage] },

  // ---- the file itself ----
  {
    name: 'a 50 MB inventory (refused unread)',
    // Valid YAML (comments) that would take a while to parse: the size check must come first.
    inventory: () => Buffer.alloc(50 * 1024 * 1024, '# padding: plexctl must refuse this file before reading it\n'),
    stderr: /plex\.yaml: 52428800 bytes is larger than the 33554432-byte limit for an inventory/,
    maxMs: 5_000,
  },
  { name: 'binary garbage (NUL and invalid UTF-8)', inventory: () => garbage(4096), stderr: /plex\.yaml: is not UTF-8 text; an inventory is UTF-8 YAML/ },
  { name: 'valid UTF-8 with NUL bytes', inventory: `${VALID}\u0000\u0000`, stderr: /plex\.yaml: contains NUL bytes; an inventory is UTF-8 YAML text/ },
  { name: 'a UTF-16 inventory', inventory: () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(VALID, 'utf16le')]), stderr: /plex\.yaml: is not UTF-8 text|contains NUL bytes/ },
  { name: '-i naming a directory', args: ['-i', 'build', 'render'], stderr: /build: is a directory, not an inventory file/ },
  { name: 'PLEXCTL_INVENTORY naming a directory', args: ['user', 'add', 'carol', '--group', 'g1'], env: { PLEXCTL_INVENTORY: 'build/wsgi' }, stderr: /build\/wsgi: is a directory, not an inventory file/ },
  { name: '-i naming a missing file', args: ['-i', 'nosuch.yaml', 'render'], stderr: /nosuch\.yaml: no such inventory file/ },
  {
    name: 'an unreadable inventory (mode 000)',
    setup: async (dir) => chmod(join(dir, 'plex.yaml'), 0o000),
    stderr: /plex\.yaml: permission denied/,
    run: runUnprivileged,
  },

  // ---- command lines ----
  { name: 'an unknown command', args: ['frobnicate'], stderr: /error: unknown command 'frobnicate'/ },
  { name: 'an unknown flag', args: ['render', '--bogus'], stderr: /error: unknown option '--bogus'/ },
  { name: 'an unknown global flag', args: ['--frobnicate', 'render'], stderr: /error: unknown option '--frobnicate'/ },
  { name: 'user add with no name', args: ['user', 'add'], stderr: /error: missing required argument 'name'/ },
  { name: 'user move without --group', args: ['user', 'move', 'alice'], stderr: /error: required option '--group <group>' not specified/ },
  { name: 'restart with no group', args: ['restart'], stderr: /error: missing required argument 'group'/ },
  { name: 'serve --port 0', args: ['serve', '--port', '0'], stderr: /option '--port <n>' argument '0' is invalid\. a port is a whole number from 1 to 65535/ },
  { name: 'serve --port 65536', args: ['serve', '--port', '65536'], stderr: /option '--port <n>' argument '65536' is invalid/ },
  { name: 'serve --port abc', args: ['serve', '--port', 'abc'], stderr: /option '--port <n>' argument 'abc' is invalid/ },
  { name: 'serve --port 80.5', args: ['serve', '--port', '80.5'], stderr: /option '--port <n>' argument '80\.5' is invalid/ },
  { name: '--lock-timeout -1', args: ['--lock-timeout', '-1', 'user', 'add', 'carol'], stderr: /option '--lock-timeout <seconds>' argument '-1' is invalid\. a number of seconds, 0 or more/ },
  { name: '--lock-timeout abc', args: ['--lock-timeout', 'abc', 'render'], stderr: /option '--lock-timeout <seconds>' argument 'abc' is invalid/ },
  { name: 'restart --timeout -5', args: ['restart', 'g1', '--timeout', '-5'], stderr: /option '--timeout <seconds>' argument '-5' is invalid/ },
  { name: 'render --out with no directory', args: ['render', '--out'], stderr: /error: option '--out <dir>' argument missing/ },
  { name: 'plan with an extra argument', args: ['plan', 'extra'], stderr: /error: too many arguments for 'plan'/ },
  { name: 'user add of an existing user', args: ['user', 'add', 'alice', '--group', 'g2'], stderr: /user "alice" already exists \(group g1\)/ },
  { name: 'user add to an unknown group', args: ['user', 'add', 'carol', '--group', 'nosuch'], stderr: /group "nosuch" is not in the inventory/ },
  { name: 'user add of a name with a space', args: ['user', 'add', 'eve smith', '--group', 'g1'], stderr: [/user "eve smith" is not allowed: users\["eve smith"\]: /, userMessage] },
  { name: 'user add of a name with a newline', args: ['user', 'add', 'eve\nx', '--group', 'g1'], stderr: [/users\["eve\\nx"\]: /, userMessage] },
  { name: 'user add of a name starting with "#"', args: ['user', 'add', '#eve', '--group', 'g1'], stderr: [/users\["#eve"\]: /, userMessage] },
  { name: 'user add of a 65-character name', args: ['user', 'add', 'u'.repeat(65), '--group', 'g1'], stderr: /is 65 characters long; at most 64 are allowed/ },
  { name: 'user remove of an unknown user', args: ['user', 'remove', 'nosuch'], stderr: /user "nosuch" is not in the inventory/ },
  { name: 'user move to an unknown group', args: ['user', 'move', 'alice', '--group', 'nosuch'], stderr: /group "nosuch" is not in the inventory/ },
  // Nothing to do is exit 0 (README "Commands"), and still changes nothing.
  { name: 'user move into its own group', args: ['user', 'move', 'alice', '--group', 'g1'], stderr: /^$/, exitCode: 0, stdout: /^ {2}alice is already in group g1: nothing to move$/m },
  { name: 'user move of an unknown user', args: ['user', 'move', 'nosuch', '--group', 'g1'], stderr: /user "nosuch" is not in the inventory/ },
  { name: 'user passwd without --password-stdin', args: ['user', 'passwd', 'alice'], stderr: /give the password on standard input with --password-stdin/ },
  { name: 'user passwd with an empty password', args: ['user', 'passwd', 'alice', '--password-stdin'], input: '', stderr: /the password is empty/ },
  { name: 'user passwd with a NUL in the password', args: ['user', 'passwd', 'alice', '--password-stdin'], input: 'se\u0000cret\n', stderr: /the password contains a line break or NUL byte/ },
  { name: 'user passwd of an unknown user', args: ['user', 'passwd', 'nosuch', '--password-stdin'], input: 'pw\n', stderr: /user "nosuch" is not in the inventory/ },
  { name: 'restart of an unknown group', args: ['restart', 'nosuch'], stderr: /group "nosuch" is not in the inventory/ },
  { name: 'a lifecycle command on a bad inventory', inventory: withUsers('  alice: nosuch\n'), args: ['user', 'add', 'carol', '--group', 'g1'], stderr: /users\.alice: group "nosuch" is not defined under groups/ },
  { name: 'plan on a bad inventory', inventory: edit('  mount: /\n', '  mount: /app/\n'), args: ['plan'], stderr: /site\.mount: must be "\/"/ },

  // ---- src/ gets these wrong (todo) ----
  {
    name: 'conf_file naming the htpasswd file',
    inventory: edit('  conf_file: build/plex.conf\n', '  conf_file: build/htpasswd\n'),
    stderr: /apache\.conf_file: /,
  },
  {
    name: 'conf_file naming wsgi_dir/procmap.txt',
    inventory: edit('  conf_file: build/plex.conf\n', '  conf_file: build/wsgi/procmap.txt\n'),
    stderr: /apache\.conf_file: /,
  },
  {
    name: 'conf_file naming wsgi_dir itself',
    inventory: edit('  conf_file: build/plex.conf\n', '  conf_file: build/wsgi\n'),
    stderr: /apache\.conf_file: /,
  },
  {
    name: 'a user name with a lone surrogate ("\\ud800")',
    inventory: withUsers('  alice: g1\n  bob: g2\n  "eve\\ud800": g1\n'),
    stderr: /users\["eve\\ud800"\]: /,
  },
  {
    name: 'an alias as a user name',
    inventory: withUsers('  &u alice: g1\n  bob: g2\n  *u : g2\n'),
    stderr: /users/,
  },
  {
    name: 'a list as a user name',
    inventory: withUsers('  alice: g1\n  bob: g2\n  ? [eve, mallory]\n  : g1\n'),
    stderr: /users/,
  },
  {
    name: 'settings keys that Python takes as equal (1, true, 1.0)',
    inventory: edit('    settings: {"GREETING":"hi"}\n', '    settings: {"TAGS": {1: one, true: yes, 1.0: float}}\n'),
    stderr: /groups\.g1\.settings\.TAGS/,
  },
  {
    name: 'control characters in an unknown key and an undefined group reach stderr raw',
    inventory: `${withUsers('  alice: "g\\e[31mred\\nX"\n')}"unk\\e[2Jown": 1\n`,
    stderr: [/unknown key/, /is not defined under groups/],
    cleanStderr: true,
  },
];

/**
 * A file of mode 000 is still readable by root: run the CLI as nobody then. Skipped (with the
 * reason) when that cannot be arranged, e.g. no setpriv, or nobody can still read the file.
 */
async function runUnprivileged(dir: string, args: string[]): Promise<CliResult | { skip: string }> {
  if (process.getuid?.() !== 0) return plexctl(args, { cwd: dir });
  const setpriv = ['/usr/bin/setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
  if (!(await access(setpriv[0]!).then(() => true, () => false))) return { skip: 'running as root without setpriv: a mode-000 file stays readable' };
  const probe = await execa(setpriv[0]!, [...setpriv.slice(1), 'cat', join(dir, 'plex.yaml')], { reject: false });
  if (probe.exitCode === 0) return { skip: 'nobody can still read a mode-000 file here' };
  const result = await execa(setpriv[0]!, [...setpriv.slice(1), process.execPath, bin, ...args], {
    cwd: dir,
    reject: false,
    input: '',
    env: { PLEXCTL_INVENTORY: '' },
  });
  if (/EACCES|permission denied/i.test(result.stderr) && !/plex\.yaml/.test(result.stderr)) return { skip: `nobody cannot run plexctl here: ${result.stderr.slice(0, 200)}` };
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

interface Entry {
  type: 'file' | 'dir' | 'link' | 'other';
  sha256?: string;
  size?: number;
  mode?: number;
  mtimeMs?: number;
  target?: string;
}

/** Every entry under `dir`, recursively: content hash, size, mode and mtime of files, link targets. */
async function snapshot(dir: string): Promise<Record<string, Entry>> {
  const out: Record<string, Entry> = {};
  async function walk(path: string): Promise<void> {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      const key = relative(dir, full);
      const info = await lstat(full);
      if (info.isDirectory()) {
        out[key] = { type: 'dir', mode: info.mode };
        await walk(full);
      } else if (info.isSymbolicLink()) {
        out[key] = { type: 'link', target: await readlink(full) };
      } else if (info.isFile()) {
        const content = await readFile(full).catch(() => undefined);
        out[key] = {
          type: 'file',
          sha256: content ? createHash('sha256').update(content).digest('hex') : 'unreadable',
          size: info.size,
          mode: info.mode,
          mtimeMs: info.mtimeMs,
        };
      } else {
        out[key] = { type: 'other', mode: info.mode };
      }
    }
  }
  await walk(dir);
  return out;
}

/** What differs between two snapshots, one line per path. */
function changedPaths(before: Record<string, Entry>, after: Record<string, Entry>): string[] {
  const paths = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return paths.flatMap((path) => {
    const [b, a] = [before[path], after[path]];
    if (!b) return [`created ${path}`];
    if (!a) return [`deleted ${path}`];
    const fields = (Object.keys({ ...b, ...a }) as (keyof Entry)[]).filter((k) => a[k] !== b[k]);
    return fields.length > 0 ? [`changed ${path} (${fields.join(', ')})`] : [];
  });
}

const hasHtpasswd = access('/usr/bin/htpasswd').then(() => true, () => false);

/**
 * A temp directory with a valid inventory, rendered, and a password for alice. The commands
 * behind `plexctl render` and `plexctl user passwd` run in this process, which saves two node
 * start-ups per case; a test below checks that the CLI makes the same setup.
 */
async function validSetup(dir: string): Promise<void> {
  await writeFile(join(dir, 'plex.yaml'), VALID);
  const inventory = await loadInventory(join(dir, 'plex.yaml'));
  await render(inventory);
  if (await hasHtpasswd) {
    await setPassword(inventory, 'alice', 'alice-pw');
  } else {
    // Without Apache's htpasswd (apache2-utils), a fixed bcrypt entry stands in for it.
    await writeFile(inventory.apache.userFile, 'alice:$2y$05$abcdefghijklmnopqrstuu5bJ8fQ/8nRvYp2Pj1g2X7Yl4o3hM9aW\n', { mode: 0o600 });
  }
}

/** The same setup made through the built CLI. */
async function cliSetup(dir: string): Promise<void> {
  await writeFile(join(dir, 'plex.yaml'), VALID);
  const rendered = await plexctl(['render'], { cwd: dir });
  assert.equal(rendered.exitCode, 0, `render failed: ${rendered.stderr}`);
  const passwd = await plexctl(['user', 'passwd', 'alice', '--password-stdin'], { cwd: dir, input: 'alice-pw\n' });
  assert.equal(passwd.exitCode, 0, `user passwd failed: ${passwd.stderr}`);
}

// Control characters other than newline and tab; these would reach a terminal raw.
const rawControl = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('bad inventories and bad command lines are refused, and nothing changes', { concurrency: 4 }, () => {
  test('the table has at least 40 cases, each with a unique name', () => {
    assert.ok(cases.length >= 40, `${cases.length} cases`);
    assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
  });

  test('the setup of each case is what `plexctl render` and `plexctl user passwd` make', { timeout: 60_000 }, async (t) => {
    if (!(await hasHtpasswd)) return t.skip('no /usr/bin/htpasswd (apache2-utils)');
    const [viaCli, inProcess] = await Promise.all([makeTempDir('plexctl-bad-input-'), makeTempDir('plexctl-bad-input-')]);
    try {
      await Promise.all([cliSetup(viaCli), validSetup(inProcess)]);
      const read = async (dir: string) => {
        const files: Record<string, string> = {};
        for (const [path, entry] of Object.entries(await snapshot(dir))) {
          if (entry.type !== 'file') continue;
          const text = (await readFile(join(dir, path), 'utf8')).replaceAll(dir, '<dir>');
          // bcrypt salts differ: keep the user and the scheme of each entry.
          files[`${path} ${(entry.mode ?? 0) & 0o7777}`] = path === 'build/htpasswd' ? text.replace(/^([^:]+:\$2y\$\d+\$).*$/gm, '$1…') : text;
        }
        return files;
      };
      assert.deepEqual(await read(inProcess), await read(viaCli));
    } finally {
      await rm(viaCli, { recursive: true, force: true });
      await rm(inProcess, { recursive: true, force: true });
    }
  });

  for (const c of cases) {
    test(c.name, { timeout: 60_000, ...(c.todo ? { todo: c.todo } : {}) }, async (t) => {
      const dir = await makeTempDir('plexctl-bad-input-');
      try {
        await validSetup(dir);
        const generated = await snapshot(dir);
        assert.ok(['plex.yaml', 'build/plex.conf', 'build/htpasswd', 'build/wsgi/procmap.txt', 'build/wsgi/group-g1.wsgi'].every((f) => generated[f]?.type === 'file'), 'the setup holds a rendered site');
        if (c.inventory !== undefined) {
          const content = typeof c.inventory === 'function' ? c.inventory() : c.inventory;
          await writeFile(join(dir, 'plex.yaml'), content);
        }
        await c.setup?.(dir);
        const before = await snapshot(dir);
        const args = c.args ?? ['render'];
        const started = Date.now();
        const result = c.run ? await c.run(dir, args) : await plexctl(args, { cwd: dir, ...(c.input !== undefined ? { input: c.input } : {}), ...(c.env ? { env: c.env } : {}) });
        const elapsed = Date.now() - started;
        if ('skip' in result) {
          t.skip(result.skip);
          return;
        }
        const output = `exit ${result.exitCode}\n--- stderr:\n${result.stderr.slice(0, 3000)}\n--- stdout:\n${result.stdout.slice(0, 1000)}`;
        const after = await snapshot(dir);
        assert.deepEqual(changedPaths(before, after), [], `no file under the directory may change:\n${output}`);
        assert.deepEqual(after, before);
        assert.equal(result.exitCode, c.exitCode ?? 1, `exit code ${c.exitCode ?? '1 (refused)'}:\n${output}`);
        if (c.stdout) assert.match(result.stdout, c.stdout, output);
        for (const pattern of Array.isArray(c.stderr) ? c.stderr : [c.stderr]) assert.match(result.stderr, pattern, output);
        assert.doesNotMatch(result.stderr, /internal error/, output);
        if (c.cleanStderr) assert.doesNotMatch(result.stderr, rawControl, 'stderr carries raw control characters');
        if (c.maxMs !== undefined) assert.ok(elapsed < c.maxMs, `refused in ${elapsed} ms, more than ${c.maxMs} ms`);
      } finally {
        await chmod(join(dir, 'plex.yaml'), 0o644).catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
