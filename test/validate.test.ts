/**
 * Unit tests of validateInventoryText: every kind of mistake is reported with its exact
 * position (line, col), key path and message, all mistakes at once; valid inventories come
 * back with paths resolved and defaults filled in.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { formatProblem, type Problem } from '../src/errors.js';
import type { Inventory } from '../src/inventory/types.js';
import { validateInventoryText } from '../src/inventory/validate.js';

const FILE = '/srv/plex/plex.yaml';

/** YAML text from lines; line N of the document is argument N. */
const doc = (...lines: string[]) => `${lines.join('\n')}\n`;

/** Six lines: a valid site and apache section. `groups:` goes on line 7. */
const HEAD = [
  'site:',
  '  settings_module: demo.settings',
  'apache:',
  '  conf_file: build/plex.conf',
  '  wsgi_dir: build/wsgi',
  '  user_file: build/htpasswd',
];

/** 1-based line and column of the first character of `needle`, which must occur once. */
function where(text: string, needle: string): { line: number; col: number } {
  const index = text.indexOf(needle);
  assert.ok(index >= 0, `test bug: ${JSON.stringify(needle)} not in the text`);
  assert.equal(text.indexOf(needle, index + 1), -1, `test bug: ${JSON.stringify(needle)} occurs twice`);
  const before = text.slice(0, index).split('\n');
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

const show = (problems: Problem[]) => problems.map(formatProblem).join('\n') || '(no problems)';

function valid(text: string, file = FILE): Inventory {
  const result = validateInventoryText(file, text);
  assert.deepEqual(result.problems, [], show(result.problems));
  assert.ok(result.inventory, 'a valid inventory comes back');
  return result.inventory;
}

function refused(text: string): Problem[] {
  const result = validateInventoryText(FILE, text);
  assert.equal(result.inventory, undefined, 'no inventory for a refused text');
  assert.ok(result.problems.length > 0, 'a refused text has problems');
  for (const p of result.problems) assert.equal(p.file, FILE);
  return result.problems;
}

interface Expected {
  line: number;
  col: number;
  path: string;
  /** A fragment of the message, or a pattern. */
  message: string | RegExp;
}

function matches(p: Problem, e: Expected): boolean {
  const messageOk = typeof e.message === 'string' ? p.message.includes(e.message) : e.message.test(p.message);
  return p.line === e.line && p.col === e.col && p.path === e.path && messageOk;
}

/** Exactly one problem, and it is `expected`. */
function one(text: string, expected: Expected): Problem {
  const problems = refused(text);
  assert.equal(problems.length, 1, `expected one problem, got:\n${show(problems)}`);
  const [p] = problems as [Problem];
  assert.deepEqual({ line: p.line, col: p.col, path: p.path }, { line: expected.line, col: expected.col, path: expected.path }, show(problems));
  if (typeof expected.message === 'string') assert.ok(p.message.includes(expected.message), `message ${JSON.stringify(p.message)} lacks ${JSON.stringify(expected.message)}`);
  else assert.match(p.message, expected.message);
  return p;
}

/** Every expected problem is reported (and nothing else). */
function exactly(text: string, expected: Expected[]): Problem[] {
  const problems = refused(text);
  for (const e of expected) {
    assert.ok(problems.some((p) => matches(p, e)), `missing ${JSON.stringify({ ...e, message: String(e.message) })} in:\n${show(problems)}`);
  }
  assert.equal(problems.length, expected.length, show(problems));
  return problems;
}

describe('YAML syntax errors', () => {
  test('a nested mapping on one line is a located YAML error, and nothing else is checked', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', '    env: {A: b}', 'users:', '  alice: django1: x', '  bob: nosuch');
    const problems = refused(text);
    assert.ok(problems.every((p) => p.message.startsWith('YAML: ')), show(problems));
    const [p] = problems as [Problem];
    assert.deepEqual({ line: p.line, col: p.col }, where(text, 'django1: x'));
    assert.equal(p.path, 'users.alice.django1');
    assert.match(p.message, /nested mappings/i);
  });

  test('a badly indented key is reported on its own line', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', '    env: {A: b}', '   settings: {}', 'users:', '  alice: django1');
    const problems = refused(text);
    assert.ok(problems.every((p) => p.message.startsWith('YAML: ')), show(problems));
    assert.equal(problems[0]!.line, 10);
    assert.equal(problems[0]!.col, 1);
    assert.match(problems[0]!.message, /same column/);
  });

  test('an unclosed flow mapping is a YAML error', () => {
    const text = doc(...HEAD, 'groups:', '  django1: {env: {A: b}', 'users:', '  alice: django1');
    const problems = refused(text);
    assert.ok(problems.every((p) => p.message.startsWith('YAML: ')), show(problems));
    assert.match(problems[0]!.message, /end with a \}/);
    assert.ok(problems[0]!.line >= 8, show(problems));
  });

  test(
    'an empty file (or one with only comments) is refused as not a mapping',
    () => {
      one('', { line: 1, col: 1, path: '(document)', message: 'expected a mapping, found nothing' });
      one(doc('# only a comment'), { line: 1, col: 1, path: '(document)', message: 'expected a mapping, found nothing' });
    },
  );

  test('a scalar at the top level is refused', () => {
    one(doc('hello'), { line: 1, col: 1, path: '(document)', message: 'expected a mapping, found the string "hello"' });
  });

  test('a list at the top level is refused', () => {
    one(doc('- a', '- b'), { line: 1, col: 1, path: '(document)', message: 'expected a mapping, found a list' });
  });

  test('a billion-laughs alias bomb is refused quickly, with a message, without a crash', () => {
    const lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    let previous = 'a';
    for (const name of 'bcdefghij') {
      lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`);
      previous = name;
    }
    const started = Date.now();
    const problems = refused(doc(...lines));
    assert.ok(Date.now() - started < 2000, 'refused without expanding the aliases');
    assert.equal(problems.length, 1, show(problems));
    assert.deepEqual({ ...problems[0]!, message: '' }, { file: FILE, line: 1, col: 1, path: '(document)', message: '' });
    assert.match(problems[0]!.message, /^YAML: .*alias/i);
  });

  test('an alias bomb hidden in a group\'s settings is refused too', () => {
    const lines = [...HEAD, 'groups:', '  django1:', '    settings:', '      X0: &x0 [a, a, a, a, a, a, a, a, a]'];
    for (let i = 1; i <= 8; i++) lines.push(`      X${i}: &x${i} [${Array(9).fill(`*x${i - 1}`).join(', ')}]`);
    const problems = refused(doc(...lines));
    assert.equal(problems.length, 1, show(problems));
    assert.match(problems[0]!.message, /alias/i);
  });

  test('a few ordinary aliases are fine', () => {
    const inventory = valid(doc(...HEAD, 'groups:', '  g1: {env: {A: &v shared}}', '  g2: {env: {A: *v}}'));
    assert.deepEqual(inventory.groups.map((g) => g.env), [[['A', 'shared']], [['A', 'shared']]]);
  });

  test('an alias to an undefined anchor is refused', () => {
    const problems = refused(doc(...HEAD, 'groups:', '  g1: {env: {A: *nope}}'));
    assert.equal(problems.length, 1, show(problems));
    assert.match(problems[0]!.message, /^YAML: .*nope/);
  });
});

describe('unknown keys', () => {
  test('`sttings` under a group suggests "settings"', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', '    sttings: {GREETING: hi}');
    one(text, { ...where(text, 'sttings'), path: 'groups.django1.sttings', message: 'unknown key "sttings" (did you mean "settings"?)' });
  });

  test('`conf_fil` suggests "conf_file", and the missing conf_file is reported on apache', () => {
    const text = doc('site:', '  settings_module: demo.settings', 'apache:', '  conf_fil: build/plex.conf', '  wsgi_dir: build/wsgi', '  user_file: build/htpasswd', 'groups:', '  django1:');
    exactly(text, [
      { ...where(text, 'conf_fil'), path: 'apache.conf_fil', message: 'unknown key "conf_fil" (did you mean "conf_file"?)' },
      { ...where(text, 'conf_fil'), path: 'apache', message: 'missing required key "conf_file"' },
    ]);
  });

  test('`group:` at the top level suggests "groups"', () => {
    const text = doc(...HEAD, 'group:', '  django1:');
    exactly(text, [
      { line: 1, col: 1, path: '(document)', message: 'missing required key "groups"' },
      { line: 7, col: 1, path: 'group', message: 'unknown key "group" (did you mean "groups"?)' },
    ]);
  });

  test('an unrelated unknown key gets no suggestion', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', '    zzzzzzzz: 1');
    const p = one(text, { ...where(text, 'zzzzzzzz'), path: 'groups.django1.zzzzzzzz', message: 'unknown key "zzzzzzzz"' });
    assert.doesNotMatch(p.message, /did you mean/);
  });

  test('a daemon option `display-name` is refused: plexctl always sets it', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', '    daemon: {display-name: foo}');
    one(text, { ...where(text, 'display-name'), path: 'groups.django1.daemon.display-name', message: 'unknown key "display-name"' });
  });

  test('`display-name` under defaults is refused too', () => {
    const text = doc(...HEAD, 'defaults:', '  display-name: foo', 'groups:', '  django1:');
    one(text, { line: 8, col: 3, path: 'defaults.display-name', message: 'unknown key "display-name"' });
  });

  test('a daemon option `proceses` suggests "processes"', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', '    daemon: {proceses: 2}');
    one(text, { ...where(text, 'proceses'), path: 'groups.django1.daemon.proceses', message: 'unknown key "proceses" (did you mean "processes"?)' });
  });

  test('a restart_signal typo suggests the enum value', () => {
    const text = doc(...HEAD, '  restart_signal: SIGUSR', 'groups:', '  django1:');
    one(text, { ...where(text, 'SIGUSR'), path: 'apache.restart_signal', message: 'must be one of SIGINT, SIGTERM, SIGUSR1, found the string "SIGUSR" (did you mean "SIGUSR1"?)' });
  });

  // Object.prototype's names are not schema properties: they must be unknown keys like any other.
  test(
    'keys named like Object.prototype members (toString, constructor) are unknown keys',
    () => {
      const text = doc(...HEAD, '  toString: x', 'groups:', '  django1:', '    daemon: {constructor: 5, hasOwnProperty: "a b"}');
      exactly(text, [
        { ...where(text, 'toString'), path: 'apache.toString', message: 'unknown key "toString"' },
        { ...where(text, 'constructor'), path: 'groups.django1.daemon.constructor', message: 'unknown key "constructor"' },
        { ...where(text, 'hasOwnProperty'), path: 'groups.django1.daemon.hasOwnProperty', message: 'unknown key "hasOwnProperty"' },
      ]);
    },
  );
});

describe('wrong types', () => {
  test('threads: "five" is not an integer', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', '    daemon: {threads: "five"}');
    one(text, { ...where(text, '"five"'), path: 'groups.django1.daemon.threads', message: 'expected an integer, found the string "five"' });
  });

  test('a negative threads count is refused', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', '    daemon: {threads: -1}');
    one(text, { ...where(text, '-1'), path: 'groups.django1.daemon.threads', message: 'must be at least 0, found -1' });
  });

  test('python_path given as a string is not a list', () => {
    const text = doc('site:', '  settings_module: demo.settings', '  python_path: site', ...HEAD.slice(2), 'groups:', '  django1:');
    one(text, { line: 3, col: 16, path: 'site.python_path', message: 'expected a list, found the string "site"' });
  });

  test('a python_path item that is not a string, or has a control character, is located by index', () => {
    const text = doc('site:', '  settings_module: demo.settings', '  python_path: ["a\\nb", 3]', ...HEAD.slice(2), 'groups:', '  django1:');
    exactly(text, [
      { ...where(text, '"a\\nb"'), path: 'site.python_path[0]', message: 'must not contain control characters' },
      { ...where(text, '3]'), path: 'site.python_path[1]', message: 'expected a string, found 3' },
    ]);
  });

  test('groups given as a list is not a mapping', () => {
    const text = doc(...HEAD, 'groups:', '  - django1', '  - django2');
    one(text, { line: 8, col: 3, path: 'groups', message: 'expected a mapping, found a list' });
  });

  test('groups with no entries is refused', () => {
    one(doc(...HEAD, 'groups: {}'), { line: 7, col: 9, path: 'groups', message: 'needs at least 1 entry' });
  });

  test('an env value of true is not a string or number', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', '    env: {DEBUG: true}');
    one(text, { ...where(text, 'true'), path: 'groups.django1.env.DEBUG', message: 'expected a string or a number, found true' });
  });

  test('an empty conf_file is refused', () => {
    const text = doc('site: {settings_module: a}', 'apache: {conf_file: "", wsgi_dir: b, user_file: c}', 'groups:', '  g: {}');
    one(text, { ...where(text, '""'), path: 'apache.conf_file', message: 'must not be empty' });
  });

  test('an empty ctl list is refused', () => {
    const text = doc(...HEAD, '  ctl: []', 'groups:', '  g: {}');
    one(text, { ...where(text, '[]'), path: 'apache.ctl', message: 'needs at least 1 item' });
  });
});

describe('duplicate keys', () => {
  test('a user listed twice is reported at the second entry', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', 'users:', '  alice: django1', '  bob: django1', '  alice: django1');
    const p = one(text, { line: 12, col: 3, path: 'users.alice', message: 'duplicate key' });
    assert.match(p.message, /"alice"/);
  });

  test('a duplicate key in a flow mapping is located', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', '    env: {A: b, A: c}');
    one(text, { ...where(text, 'A: c'), path: 'groups.django1.env.A', message: 'duplicate key "A"' });
  });

  test(
    'a group with an empty body listed twice is reported at the second one, by name',
    () => {
      const text = doc(...HEAD, 'groups:', '  django1:', '  django1:', 'users:', '  alice: django1');
      one(text, { line: 9, col: 3, path: 'groups.django1', message: 'duplicate key "django1"' });
    },
  );
});

describe('users and their groups', () => {
  test('a user mapped to a group that does not exist, with a suggestion', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', '  django2:', 'users:', '  alice: djang2');
    one(text, { ...where(text, 'djang2'), path: 'users.alice', message: 'group "djang2" is not defined under groups (did you mean "django2"?)' });
  });

  test('with no close group name, the defined groups are listed', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', '  django2:', 'users:', '  alice: zzzzzzzzz');
    one(text, { ...where(text, 'zzzzzzzzz'), path: 'users.alice', message: '(defined: django1, django2)' });
  });

  const badName = 'a user name must not contain whitespace, ":" or control characters, nor start with "#"';
  const userCases: [string, string, string][] = [
    ['a space', '"bob smith"', 'users["bob smith"]'],
    ['a colon', '"bob:x"', 'users["bob:x"]'],
    ['a leading #', '"#bob"', 'users["#bob"]'],
    ['a tab', '"bob\\tx"', 'users["bob\\tx"]'],
    // Key paths print C1 controls and DEL escaped, so they never reach the terminal raw.
    ['a C1 control character (U+0085)', '"bob\\x85x"', 'users["bob\\u0085x"]'],
    ['DEL', '"bob\\x7fx"', 'users["bob\\u007fx"]'],
  ];
  for (const [what, yamlKey, path] of userCases) {
    test(`a user name with ${what} is refused`, () => {
      const text = doc(...HEAD, 'groups:', '  django1:', 'users:', '  alice: django1', `  ${yamlKey}: django1`);
      one(text, { line: 11, col: 3, path, message: badName });
    });
  }

  test('a user name of 65 characters is too long; 64 is fine', () => {
    const long = 'a'.repeat(65);
    const text = doc(...HEAD, 'groups:', '  django1:', 'users:', `  ${long}: django1`);
    one(text, { line: 10, col: 3, path: `users.${long}`, message: 'is 65 characters long; at most 64 are allowed' });
    valid(doc(...HEAD, 'groups:', '  django1:', 'users:', `  ${'a'.repeat(64)}: django1`));
  });

  test('a user name length counts characters, not UTF-16 units', () => {
    valid(doc(...HEAD, 'groups:', '  django1:', 'users:', `  ${'😀'.repeat(64)}: django1`));
  });

  test('non-ASCII, dotted and @ user names are fine', () => {
    const inventory = valid(doc(...HEAD, 'groups:', '  django1:', 'users:', '  zoë: django1', '  a.b@example.org: django1'));
    assert.deepEqual(inventory.users.map((u) => u.user), ['zoë', 'a.b@example.org']);
  });
});

describe('group names', () => {
  const badGroup = 'a group name starts with a letter and has only letters, digits, "_" and "-"';
  test('a group name starting with a digit is refused', () => {
    const text = doc(...HEAD, 'groups:', '  2django:', 'users:', '  alice: 2django');
    exactly(text, [
      { line: 8, col: 3, path: 'groups.2django', message: badGroup },
      // A user's group is checked by the same rule.
      { line: 10, col: 10, path: 'users.alice', message: badGroup },
    ]);
  });

  test('a group name with a dot is refused', () => {
    const text = doc(...HEAD, 'groups:', '  dj.ango:');
    one(text, { line: 8, col: 3, path: 'groups["dj.ango"]', message: badGroup });
  });

  test('a group name of 11 characters would truncate the process title; 10 is fine', () => {
    const text = doc(...HEAD, 'groups:', '  abcdefghijk:');
    one(text, { line: 8, col: 3, path: 'groups.abcdefghijk', message: 'is 11 characters long; at most 10 are allowed' });
    valid(doc(...HEAD, 'groups:', '  abcdefghij:'));
  });

  test('a shorter apache2 path in ctl (/sbin/apache2) leaves less room for the title', () => {
    // "/sbin/apache2" is 13 characters; "(wsgi:)" takes 7: 6 are left for the name.
    const text = doc(...HEAD, '  ctl: [/sbin/apache2, -k, start]', 'groups:', '  django1:', '  web:', '  abcdef:', 'users:', '  alice: django1');
    one(text, { line: 9, col: 3, path: 'groups.django1', message: 'the process title (wsgi:django1) does not fit in argv[0] "/sbin/apache2" (6 characters of room)' });
  });

  test('an httpd binary in ctl is checked the same way', () => {
    const text = doc(...HEAD, '  ctl: [/bin/httpd]', 'groups:', '  abcd:', '  abc:');
    one(text, { line: 9, col: 3, path: 'groups.abcd', message: 'does not fit in argv[0] "/bin/httpd"' });
  });

  test('apache2ctl in ctl does not shrink the room (it runs /usr/sbin/apache2)', () => {
    valid(doc(...HEAD, '  ctl: [/sbin/apache2ctl]', 'groups:', '  abcdefghij:'));
  });
});

describe('env and settings', () => {
  test('an invalid environment variable name is refused', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', '    env: {1DB: x, A-B: y, _OK: z}');
    const message = 'an environment variable name has only letters, digits and "_", and does not start with a digit';
    exactly(text, [
      { ...where(text, '1DB'), path: 'groups.django1.env.1DB', message },
      { ...where(text, 'A-B'), path: 'groups.django1.env.A-B', message },
    ]);
  });

  test('an environment value with a NUL ("\\0" in YAML) is refused', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', '    env: {DB: "x\\0y"}');
    one(text, { ...where(text, '"x'), path: 'groups.django1.env.DB', message: 'cannot contain a NUL character' });
  });

  test('a lone surrogate ("\\uD800") is refused in env', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', '    env: {DB: "x\\uD800y"}');
    one(text, { ...where(text, '"x'), path: 'groups.django1.env.DB', message: 'lone UTF-16 surrogate' });
  });

  test('a lone surrogate is refused deep in a settings value, and in a settings mapping key', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', '    settings:', '      X: [ok, "\\uDC00"]', '      Y: {"a\\uD800": 1}');
    exactly(text, [
      { ...where(text, '"\\uDC00"'), path: 'groups.django1.settings.X[1]', message: 'lone UTF-16 surrogate' },
      { ...where(text, '{"a'), path: 'groups.django1.settings.Y', message: 'lone UTF-16 surrogate' },
    ]);
  });

  test('a NUL inside a settings value is allowed (Python carries it)', () => {
    const inventory = valid(doc(...HEAD, 'groups:', '  django1:', '    settings: {X: "a\\0b"}'));
    assert.deepEqual(inventory.groups[0]!.settings, [['X', 'a\u0000b']]);
  });

  test('an integer too large for a double is carried exactly in settings', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', '    settings: {BIG: 12345678901234567890}');
    const result = validateInventoryText(FILE, text);
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.inventory!.groups[0]!.settings, [['BIG', 12345678901234567890n]]);
  });

  test('settings keys must be UPPER_CASE', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', '    settings: {debug: true, Debug: 1, DEBUG_2: ok}');
    exactly(text, [
      { ...where(text, 'debug'), path: 'groups.django1.settings.debug', message: 'Django only reads UPPER_CASE settings' },
      { ...where(text, 'Debug'), path: 'groups.django1.settings.Debug', message: 'Django only reads UPPER_CASE settings' },
    ]);
  });

  test(
    'a float written as a float (1e300) is a valid setting, not "an integer too large"',
    () => {
      const inventory = valid(doc(...HEAD, 'groups:', '  django1:', '    settings: {HUGE: 1e300, BIG: 1.0e+20}'));
      assert.deepEqual(inventory.groups[0]!.settings, [['HUGE', 1e300], ['BIG', 1e20]]);
    },
  );

  test(
    'an env value written as 3.10 is not silently changed to "3.1"',
    () => {
      const result = validateInventoryText(FILE, doc(...HEAD, 'groups:', '  django1:', '    env: {PYTHON_VERSION: 3.10}'));
      // Either refused (quote it), or carried as written.
      if (result.inventory) assert.deepEqual(result.inventory.groups[0]!.env, [['PYTHON_VERSION', '3.10']]);
      else assert.equal(result.problems[0]!.path, 'groups.django1.env.PYTHON_VERSION');
    },
  );

  test(
    'a settings mapping with integer keys (MESSAGE_TAGS: {40: danger}) keeps its integer keys',
    () => {
      const text = doc(...HEAD, 'groups:', '  django1:', '    settings:', '      MESSAGE_TAGS: {40: danger}');
      const result = validateInventoryText(FILE, text);
      assert.deepEqual(result.problems, []);
      assert.deepEqual(result.inventory!.groups[0]!.settings, [['MESSAGE_TAGS', new Map([[40n, 'danger']])]]);
    },
  );
});

describe('site and apache values', () => {
  test('a mount with a trailing slash is refused', () => {
    const text = doc('site:', '  mount: /app/', ...HEAD.slice(1), 'groups:', '  django1:');
    one(text, { line: 2, col: 10, path: 'site.mount', message: 'no trailing slash' });
  });

  for (const module of ['demo..settings', '"demo settings"', '1demo.settings', 'demo.settings.']) {
    test(`settings_module ${module} is refused`, () => {
      const text = doc('site:', `  settings_module: ${module}`, ...HEAD.slice(2), 'groups:', '  django1:');
      one(text, { line: 2, col: 20, path: 'site.settings_module', message: 'must be a dotted Python module name' });
    });
  }

  const apacheSyntax = 'must not contain a double quote, a backslash';
  for (const [what, yamlValue] of [
    ['${', '"build/${HOME}/wsgi"'],
    ['%{', "'build/%{ENV:X}'"],
    ['a double quote', `'build/"wsgi'`],
    ['a backslash', "'build\\wsgi'"],
  ]) {
    test(`a path containing ${what} is refused`, () => {
      const text = doc(...HEAD.slice(0, 4), `  wsgi_dir: ${yamlValue}`, HEAD[5]!, 'groups:', '  django1:');
      one(text, { line: 5, col: 13, path: 'apache.wsgi_dir', message: apacheSyntax });
    });
  }

  test('a realm with a double quote is refused', () => {
    const text = doc(...HEAD, `  realm: 'say "hi"'`, 'groups:', '  django1:');
    one(text, { line: 7, col: 10, path: 'apache.realm', message: apacheSyntax });
  });

  test('site.account_ids: max below min is refused at max; a range below 100 at its key; a sound one is kept', () => {
    const text = doc('site:', '  settings_module: demo.settings', '  account_ids: {min: 200000, max: 199999}', ...HEAD.slice(2), 'groups:', '  django1:');
    one(text, { ...where(text, '199999'), path: 'site.account_ids.max', message: 'must be at least min (200000)' });
    const low = doc('site:', '  settings_module: demo.settings', '  account_ids: {min: 5, max: 9000}', ...HEAD.slice(2), 'groups:', '  django1:');
    one(low, { ...where(low, '5,'), path: 'site.account_ids.min', message: '100' });
    const fine = validateInventoryText(FILE, doc('site:', '  settings_module: demo.settings', '  account_ids: {min: 200000, max: 209999}', ...HEAD.slice(2), 'groups:', '  django1:'));
    assert.deepEqual(fine.inventory?.site.accountIds, { min: 200000, max: 209999 });
  });

  test('a daemon option value with ${ is refused', () => {
    const text = doc(...HEAD, 'groups:', '  django1:', '    daemon: {home: "/srv/${X}"}');
    one(text, { ...where(text, '"/srv'), path: 'groups.django1.daemon.home', message: apacheSyntax });
  });
});

describe('missing keys', () => {
  test('every missing required key is reported where it belongs', () => {
    const text = doc('site: {}', 'apache: {}');
    exactly(text, [
      { line: 1, col: 1, path: '(document)', message: 'missing required key "groups"' },
      { line: 1, col: 7, path: 'site', message: 'missing required key "settings_module"' },
      { line: 2, col: 9, path: 'apache', message: 'missing required key "conf_file"' },
      { line: 2, col: 9, path: 'apache', message: 'missing required key "wsgi_dir"' },
      { line: 2, col: 9, path: 'apache', message: 'missing required key "user_file"' },
    ]);
  });

  test('a file with only site lacks apache and groups', () => {
    const text = doc('site:', '  mount: /');
    exactly(text, [
      { line: 1, col: 1, path: '(document)', message: 'missing required key "apache"' },
      { line: 1, col: 1, path: '(document)', message: 'missing required key "groups"' },
      { line: 2, col: 3, path: 'site', message: 'missing required key "settings_module"' },
    ]);
  });
});

describe('all problems at once', () => {
  test('an inventory with five different mistakes yields five located problems, in file order', () => {
    const text = doc(
      'site:',
      '  mount: /app/', //                         1. trailing slash
      '  settings_module: demo.settings',
      'apache:',
      '  conf_file: build/plex.conf',
      '  wsgi_dir: build/wsgi',
      '  user_file: build/htpasswd',
      'groups:',
      '  django1:',
      '    env: {1DB: x}', //                       2. bad env name
      '    daemon: {proceses: 2, threads: five}', // 3. unknown option, 4. wrong type
      'users:',
      '  alice: djang2', //                         5. no such group
    );
    const problems = exactly(text, [
      { line: 2, col: 10, path: 'site.mount', message: 'no trailing slash' },
      { line: 10, col: 11, path: 'groups.django1.env.1DB', message: 'an environment variable name' },
      { line: 11, col: 14, path: 'groups.django1.daemon.proceses', message: 'did you mean "processes"?' },
      { line: 11, col: 36, path: 'groups.django1.daemon.threads', message: 'expected an integer, found the string "five"' },
      { line: 13, col: 10, path: 'users.alice', message: 'group "djang2" is not defined under groups (did you mean "django1"?)' },
    ]);
    const lines = problems.map(formatProblem);
    assert.deepEqual(lines.map((l) => l.split(': ')[0]), [
      `${FILE}:2:10`,
      `${FILE}:10:11`,
      `${FILE}:11:14`,
      `${FILE}:11:36`,
      `${FILE}:13:10`,
    ]);
  });

  test('schema mistakes, rule mistakes and duplicate keys are reported together', () => {
    const text = doc(
      'site: {settings_module: a}',
      'apache: {conf_file: a, wsgi_dir: b, user_file: c}',
      'groups:',
      '  g1: {env: {A: "\\uD800"}, settings: {lower: 1}}',
      'users:',
      '  a: g2',
      '  b: g1',
      '  b: g1',
    );
    exactly(text, [
      { ...where(text, '"\\uD800"'), path: 'groups.g1.env.A', message: 'lone UTF-16 surrogate' },
      { ...where(text, 'lower'), path: 'groups.g1.settings.lower', message: 'UPPER_CASE' },
      { line: 6, col: 6, path: 'users.a', message: 'group "g2" is not defined' },
      { line: 8, col: 3, path: 'users.b', message: 'duplicate key' },
    ]);
  });
});

describe('valid inventories', () => {
  const demoFile = fileURLToPath(new URL('../../examples/demo/plex.yaml', import.meta.url));
  const demoDir = dirname(demoFile);

  test('a user name starting with "-" is refused (htpasswd would read it as an option)', () => {
    const problems = refused(doc(...HEAD, 'groups:', '  django3:', 'users:', '  "-rf": django3'));
    assert.deepEqual(problems.map((p) => `${p.path}: ${p.message}`), ['users.-rf: a user name must not start with "-" (htpasswd would read it as an option)']);
  });

  test('groups must not share an account, nor run as Apache\'s user or root, unless isolation: shared', () => {
    const shared = refused(doc(...HEAD, 'groups:', '  g1: {daemon: {user: plex-x}}', '  g2: {daemon: {user: plex-x}}'));
    assert.match(shared.map((p) => p.message).join('\n'), /runs as plex-x, like group g1/);
    assert.match(refused(doc(...HEAD, 'defaults: {user: www-data}', 'groups:', '  g1:')).map((p) => p.message).join('\n'), /must not run as Apache's user www-data/);
    assert.match(refused(doc(...HEAD, 'isolation: shared', 'groups:', '  g1: {daemon: {user: root}}')).map((p) => p.message).join('\n'), /must not run as root/);
    valid(doc(...HEAD, 'isolation: shared', 'groups:', '  g1: {daemon: {user: plex-x}}', '  g2: {daemon: {user: plex-x}}'));
  });

  test('the demo inventory validates', () => {
    const inventory = valid(readFileSync(demoFile, 'utf8'), demoFile);
    assert.equal(inventory.file, demoFile);
    assert.equal(inventory.dir, demoDir);
    assert.deepEqual(inventory.site, { mount: '/', pythonPath: [`${demoDir}/site`], settingsModule: 'demo.settings', dataDir: `${demoDir}/data`, onRelease: 'archive', database: 'sqlite', init: [['migrate', '--noinput']], remoteUser: false });
    assert.equal(inventory.isolation, 'per-group');
    assert.deepEqual(inventory.apache, {
      confFile: `${demoDir}/build/plex.conf`,
      wsgiDir: `${demoDir}/build/wsgi`,
      userFile: `${demoDir}/build/htpasswd`,
      realm: 'plex demo',
      pidFile: `${demoDir}/.plexctl/serve/run/httpd.pid`,
      ctl: ['/usr/sbin/apache2', '-f', `${demoDir}/.plexctl/serve/httpd.conf`],
      restartSignal: 'SIGINT',
      map: 'txt',
      bcryptCost: 5,
      auth: 'form',
      authPath: '/_plex/',
      session: { maxAge: 8 * 3600, idleUpdate: 300 },
      tls: false,
    });
    assert.deepEqual(inventory.defaults, { processes: 1, threads: 5 });
    const own = (name: string) => ({ settingsModule: 'demo.settings', pythonPath: [`${demoDir}/site`], runAs: { user: `plex-${name}`, group: `plex-${name}` }, dataDir: `${demoDir}/data/${name}` });
    assert.deepEqual(inventory.groups, [
      { name: 'django1', env: [], settings: [['GREETING', 'hello from instance one']], daemon: { threads: 2 }, ...own('django1') },
      { name: 'django2', env: [], settings: [['GREETING', 'hello from instance two']], daemon: {}, ...own('django2') },
      { name: 'django3', env: [], settings: [['GREETING', 'hello from instance three']], daemon: {}, ...own('django3') },
    ]);
    assert.deepEqual(inventory.users, [
      { user: 'alice', group: 'django1' },
      { user: 'bob', group: 'django2' },
      { user: 'carol', group: 'django3' },
    ]);
  });

  test('relative paths are resolved against the inventory\'s directory', () => {
    const inventory = valid(
      doc(
        'site:',
        '  settings_module: demo.settings',
        '  python_path: [site, /opt/lib, ../shared, "./with space"]',
        'apache:',
        '  conf_file: build/plex.conf',
        '  wsgi_dir: /var/lib/plex/wsgi',
        '  user_file: ../etc/htpasswd',
        '  pid_file: run/httpd.pid',
        'groups:',
        '  django1:',
      ),
    );
    assert.deepEqual(inventory.site.pythonPath, ['/srv/plex/site', '/opt/lib', '/srv/shared', '/srv/plex/with space']);
    assert.equal(inventory.apache.confFile, '/srv/plex/build/plex.conf');
    assert.equal(inventory.apache.wsgiDir, '/var/lib/plex/wsgi');
    assert.equal(inventory.apache.userFile, '/srv/etc/htpasswd');
    assert.equal(inventory.apache.pidFile, '/srv/plex/run/httpd.pid');
    assert.equal(inventory.dir, '/srv/plex');
  });

  test('a relative path after -f in ctl is resolved; other arguments are left alone', () => {
    const inventory = valid(doc(...HEAD, '  ctl: [apache2ctl, -f, conf/httpd.conf, -d, rel, -f, /etc/abs.conf]', 'groups:', '  django1:'));
    assert.deepEqual(inventory.apache.ctl, ['apache2ctl', '-f', '/srv/plex/conf/httpd.conf', '-d', 'rel', '-f', '/etc/abs.conf']);
  });

  test('defaults are filled in', () => {
    const inventory = valid(doc(...HEAD, 'groups:', '  django1:'));
    assert.equal(inventory.site.mount, '/');
    assert.deepEqual(inventory.site.pythonPath, []);
    assert.equal(inventory.apache.realm, 'plexctl');
    assert.equal(inventory.apache.restartSignal, 'SIGINT');
    assert.equal(inventory.apache.pidFile, '/run/apache2/apache2.pid');
    assert.deepEqual(inventory.apache.ctl, ['/usr/sbin/apache2ctl']);
    assert.deepEqual(inventory.defaults, {});
    assert.deepEqual(inventory.users, []);
  });

  test('a group with a null body is allowed, and so are null env/settings/daemon', () => {
    const inventory = valid(doc(...HEAD, 'groups:', '  django3:', '  django4:', '    env:', '    settings:', '    daemon:', 'defaults:'));
    assert.deepEqual(inventory.groups, [
      { name: 'django3', env: [], settings: [], settingsModule: 'demo.settings', pythonPath: [], daemon: {}, runAs: { user: 'plex-django3', group: 'plex-django3' }, dataDir: '/srv/plex/data/django3' },
      { name: 'django4', env: [], settings: [], settingsModule: 'demo.settings', pythonPath: [], daemon: {}, runAs: { user: 'plex-django4', group: 'plex-django4' }, dataDir: '/srv/plex/data/django4' },
    ]);
  });

  test('an empty users: is allowed', () => {
    const inventory = valid(doc(...HEAD, 'groups:', '  django3:', 'users:'));
    assert.deepEqual(inventory.users, []);
  });

  test('numbers are carried as env strings, and merged daemon options keep their types', () => {
    // Apache's own user only with isolation: shared (per-group isolation refuses it).
    const inventory = valid(doc(...HEAD, 'isolation: shared', 'defaults: {processes: 2, user: www-data}', 'groups:', '  g1:', '    env: {PORT: 8000, NAME: x}', '    daemon: {processes: 4, home: /srv/g1}'));
    assert.deepEqual(inventory.defaults, { processes: 2, user: 'www-data' });
    assert.deepEqual(inventory.groups[0], { name: 'g1', env: [['PORT', '8000'], ['NAME', 'x']], settings: [], settingsModule: 'demo.settings', pythonPath: [], daemon: { processes: 4, home: '/srv/g1' }, runAs: { user: 'www-data', group: 'www-data' }, dataDir: '/srv/plex/data/g1' });
  });

  test('defaults: daemon, env and settings for every group; a group\'s own keys win, whole values, in the default\'s place', () => {
    const text = doc(...HEAD, 'defaults:', '  daemon: {processes: 2, threads: 4}', '  env: {A: one, B: two}', '  settings: {X: {k: 1}, Y: 2}', 'groups:', '  g1:', '    env: {B: own, C: three}', '    settings: {X: {j: 2}}', '    daemon: {threads: 9}', '  g2:');
    const inventory = valid(text);
    assert.deepEqual(inventory.defaults, { processes: 2, threads: 4 });
    const [g1, g2] = inventory.groups;
    assert.deepEqual(g1!.env, [['A', 'one'], ['B', 'own'], ['C', 'three']]);
    assert.deepEqual(g1!.settings, [['X', new Map([['j', 2n]])], ['Y', 2n]]);
    assert.deepEqual(g2!.env, [['A', 'one'], ['B', 'two']]);
    assert.deepEqual(g2!.settings, [['X', new Map([['k', 1n]])], ['Y', 2n]]);
    assert.deepEqual(validateInventoryText('/srv/plex/plex.yaml', text).notices, []);
  });

  test('the old flat defaults are still read, with a note saying how to update', () => {
    const text = doc(...HEAD, 'defaults:', '  processes: 2', 'groups:', '  g1:');
    const result = validateInventoryText('/srv/plex/plex.yaml', text);
    assert.deepEqual(result.inventory?.defaults, { processes: 2 });
    assert.equal(result.notices.length, 1);
    assert.equal(result.notices[0]!.line, 7);
    assert.match(result.notices[0]!.message, /old form.*under a "daemon:" key/);
  });

  test('a group can be another Django project: its own settings_module, python_path and python_home', () => {
    const inventory = valid(doc('site:', '  settings_module: demo.settings', '  python_path: [site]', ...HEAD.slice(2), 'groups:', '  g1:', '    settings_module: other.settings', '    python_path: [/srv/other]', '    python_home: venvs/other', '  g2:'));
    const [g1, g2] = inventory.groups;
    assert.equal(g1!.settingsModule, 'other.settings');
    assert.deepEqual(g1!.pythonPath, ['/srv/other']);
    assert.equal(g1!.pythonHome, '/srv/plex/venvs/other');
    assert.equal(g2!.settingsModule, 'demo.settings');
    assert.equal(g2!.pythonHome, undefined);
  });

  test('groups, users, env and settings keep inventory order', () => {
    const inventory = valid(
      doc(
        ...HEAD,
        'groups:',
        '  zeta:',
        '    env: {Z: 1, A: 2, M: 3}',
        '    settings: {ZED: 1, ALPHA: 2}',
        '  alpha:',
        '  mid:',
        'users:',
        '  zed: alpha',
        '  amy: mid',
        '  bob: zeta',
        '  __proto__: zeta',
        '  constructor: mid',
      ),
    );
    assert.deepEqual(inventory.groups.map((g) => g.name), ['zeta', 'alpha', 'mid']);
    assert.deepEqual(inventory.groups[0]!.env.map(([k]) => k), ['Z', 'A', 'M']);
    assert.deepEqual(inventory.groups[0]!.settings.map(([k]) => k), ['ZED', 'ALPHA']);
    assert.deepEqual(inventory.users, [
      { user: 'zed', group: 'alpha' },
      { user: 'amy', group: 'mid' },
      { user: 'bob', group: 'zeta' },
      { user: '__proto__', group: 'zeta' },
      { user: 'constructor', group: 'mid' },
    ]);
  });

  test(
    'users with numeric names keep inventory order too',
    () => {
      const inventory = valid(doc(...HEAD, 'groups:', '  g1:', 'users:', '  bob: g1', '  42: g1', '  7: g1'));
      assert.deepEqual(inventory.users.map((u) => u.user), ['bob', '42', '7']);
    },
  );

  test('validation is pure: the same text gives the same result twice', () => {
    const text = readFileSync(demoFile, 'utf8');
    assert.deepEqual(validateInventoryText(demoFile, text).inventory, validateInventoryText(demoFile, text).inventory);
  });
});

describe('paths kept apart', () => {
  test('conf_file given as an absolute path inside a relative wsgi_dir is refused', () => {
    const text = [
      'site: {settings_module: demo.settings}',
      'apache: {conf_file: /srv/plex/build/wsgi/plex.conf, wsgi_dir: build/wsgi, user_file: build/htpasswd}',
      'groups: {g1: {}}',
      '',
    ].join('\n');
    const result = validateInventoryText('/srv/plex/plex.yaml', text);
    assert.deepEqual(result.problems.map((p) => `${p.path}: ${p.message}`), ['apache.conf_file: must not be wsgi_dir or inside it (plexctl owns the files there)']);
  });
});
