/**
 * The escapers at the point of output. Python literals are read back by a real python3 and must
 * give exactly the values that went in; Apache arguments are bare, quoted, or refused.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SettingValue } from '../src/inventory/types.js';
import { validateInventoryText } from '../src/inventory/validate.js';
import { apacheArg, apacheQuoted, UnsafeApacheText } from '../src/render/escape-apache.js';
import { pyStr, pyValue } from '../src/render/escape-python.js';
import { renderFiles } from '../src/render/generated-files.js';

const PYTHON = '/usr/bin/python3';
/** Printable ASCII only: no byte of a literal can depend on the file's encoding or end a line. */
const printableAscii = /^[\x20-\x7e]*$/;

let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'plexctl-escape-'));
});
after(() => {
  rmSync(work, { recursive: true, force: true });
});

function python(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(PYTHON, args, {
    input: options.input ?? '',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', ...options.env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
}

/**
 * Python helpers for the read-back: `tag` turns the floats JSON cannot carry into
 * {"$float": repr}, so everything else is compared through plain JSON.
 */
const pyTag = `
import json, math
def tag(v):
    if isinstance(v, float) and not math.isfinite(v):
        return {'$float': repr(v)}
    if isinstance(v, list):
        return [tag(x) for x in v]
    if isinstance(v, dict):
        return {k: tag(x) for k, x in v.items()}
    return v
`;

/** The JS side of `tag`. */
function tag(v: SettingValue): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return { $float: Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf' };
  if (Array.isArray(v)) return v.map(tag);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, tag(x)]));
  return v;
}

/** A short label for an assertion message. */
const describeValue = (value: SettingValue): string =>
  (JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value)).slice(0, 80);

const hostileStrings: string[] = [
  '',
  'plain',
  "it's",
  'say "hi"',
  "'",
  '"',
  "'''",
  '"""',
  "''' + __import__('os').system('false') + '''",
  "'); import os; os._exit(3) #",
  '\\',
  'trailing backslash\\',
  "\\'",
  '\\\\\\',
  '\\x41 \\u0041 \\U00000041 \\N{LATIN SMALL LETTER A} \\0',
  'line\nbreak',
  'crlf\r\nlf\n',
  'carriage\rreturn',
  'tab\there',
  '${X}',
  '%{ENV:Y}',
  '{0} %s %(name)s',
  '# not a comment',
  'é',
  'naïve café',
  '中文',
  '😀',
  'a😀b😀😀',
  'line\u2028separator\u2029paragraph',
  'next\u0085line',
  'zero\u200dwidth\u200bjoiner',
  'rtl \u202eoverride\u202c',
  '\ufeffbom',
  '\u00a0nbsp\u00ad',
  'nul\u0000inside',
  '\u0000',
  '\u0001\u0007\u0008\u000b\u000c\u001b[31m\u007f\u0080\u009b\u00ff',
  '\ud7ff\ue000\uffff\u{10000}\u{10ffff}',
  'a'.repeat(100_000),
  "'\\\"".repeat(30_000),
  '😀'.repeat(50_000),
  '中\n'.repeat(30_000),
];

const hostileValues: SettingValue[] = [
  ...hostileStrings,
  null,
  true,
  false,
  0,
  1,
  -1,
  42,
  -123456789,
  2 ** 53 - 1,
  -(2 ** 53 - 1),
  2 ** 53,
  0.1,
  -0.5,
  -0,
  1e300,
  -1e300,
  1e-300,
  5e-324,
  1.7976931348623157e308,
  1e21,
  123.456,
  [],
  {},
  ['a', ["b'", ['c\\', [null, true, 1.5]]]],
  { "k'ey": 'v"al', 'é': ['😀', { '\n': '\u2028' }], '': '' },
  [{ DEFAULT: { ENGINE: 'django.db.backends.sqlite3', NAME: '/srv/${X}/%{Y}.sqlite3' } }],
];

/** Floats Python cannot read from a literal: rendered as float(...) calls, compared by repr. */
const specialValues: [SettingValue, string][] = [
  [NaN, 'nan'],
  [Infinity, 'inf'],
  [-Infinity, '-inf'],
  [[NaN, { a: Infinity }, -Infinity], "[nan, {'a': inf}, -inf]"],
];

describe('pyStr and pyValue', () => {
  test('exact literals for a few values', () => {
    assert.equal(pyStr(''), "''");
    assert.equal(pyStr('plain text'), "'plain text'");
    assert.equal(pyStr("it's"), "'it\\'s'");
    assert.equal(pyStr('a\\b'), "'a\\\\b'");
    assert.equal(pyStr('say "hi"'), `'say "hi"'`);
    assert.equal(pyStr('\n\r\t\u0000\u007f'), "'\\x0a\\x0d\\x09\\x00\\x7f'");
    assert.equal(pyStr('é'), "'\\xe9'");
    assert.equal(pyStr('中'), "'\\u4e2d'");
    assert.equal(pyStr('\u2028'), "'\\u2028'");
    assert.equal(pyStr('😀'), "'\\U0001f600'");
    assert.equal(pyValue(null), 'None');
    assert.equal(pyValue(true), 'True');
    assert.equal(pyValue(false), 'False');
    assert.equal(pyValue(-0), '-0.0');
    assert.equal(pyValue(2 ** 53 - 1), '9007199254740991.0', 'a JS number is a YAML float');
    assert.equal(pyValue(5), '5.0');
    assert.equal(pyValue(9007199254740993n), '9007199254740993', 'a bigint is a YAML integer, exact');
    assert.equal(pyValue(NaN), "float('nan')");
    assert.equal(pyValue(2n ** 64n), '18446744073709551616');
    assert.equal(pyValue(['a', { b: 1n }]), "['a', {'b': 1}]");
  });

  test('every rendered literal is printable ASCII', () => {
    for (const value of [...hostileValues, ...specialValues.map(([v]) => v), 2n ** 70n, '\ud800', '\udfff']) {
      const literal = pyValue(value);
      assert.match(literal, printableAscii, `pyValue(${describeValue(value)})`);
    }
  });

  test('python3 reads every literal back exactly', () => {
    // Lone surrogates are refused by validation, but the escaper itself must still be exact.
    const values: SettingValue[] = [...hostileValues, '\ud800', 'x\udfffy', '\udbff\ud800'];
    const literals = values.map(pyValue);
    const program = [
      'import ast, sys',
      pyTag,
      'values = [',
      ...literals.map((l) => `    ${l},`),
      ']',
      `specials = [${specialValues.map(([v]) => pyValue(v)).join(', ')}]`,
      `bigs = [${pyValue(2n ** 64n)}, ${pyValue(-(2n ** 70n))}]`,
      'literals = json.load(sys.stdin)',
      // A pure literal: literal_eval refuses anything that would run code.
      'evaluated = [ast.literal_eval(s) for s in literals]',
      'print(json.dumps({',
      "    'values': values,",
      "    'evaluated': evaluated,",
      "    'types': [type(v).__name__ for v in values],",
      "    'specials': [repr(v) for v in specials],",
      "    'bigs': [str(v) for v in bigs],",
      '}, ensure_ascii=True))',
    ].join('\n');
    const file = join(work, 'values.py');
    writeFileSync(file, program);
    const out = python([file], { input: JSON.stringify(literals) });
    assert.match(out.trimEnd(), printableAscii);
    const result = JSON.parse(out) as { values: unknown[]; evaluated: unknown[]; types: string[]; specials: string[]; bigs: string[] };
    assert.equal(result.values.length, values.length);
    values.forEach((value, i) => {
      const label = `value #${i}: ${describeValue(value)}`;
      assert.deepStrictEqual(result.values[i], value, label);
      assert.deepStrictEqual(result.evaluated[i], value, `literal_eval of ${label}`);
    });
    assert.deepEqual(result.specials, specialValues.map(([, repr]) => repr));
    assert.deepEqual(result.bigs, ['18446744073709551616', '-1180591620717411303424']);
    // YAML integers arrive as bigint and stay int; every JS number is a YAML float and stays float
    // (5.0 is not 5); -0.0 keeps its sign.
    const typeOf = (v: SettingValue) => result.types[values.indexOf(v)];
    assert.equal(typeOf(2 ** 53 - 1), 'float');
    assert.equal(typeOf(-123456789), 'float');
    assert.equal(typeOf(0.1), 'float');
    assert.equal(typeOf(1e300), 'float');
    assert.equal(result.types[values.findIndex((v) => Object.is(v, -0))], 'float');
    assert.equal(typeOf(true), 'bool');
    assert.equal(typeOf(null), 'NoneType');
  });
});

/** A YAML double-quoted scalar for any string: printable ASCII, everything else escaped. */
function yamlStr(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (code >= 0x20 && code < 0x7f) out += ch;
    else if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** A YAML flow value for a setting. */
function yamlValue(value: SettingValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return '.nan';
    if (value === Infinity) return '.inf';
    if (value === -Infinity) return '-.inf';
    if (Object.is(value, -0)) return '-0.0';
    return String(value);
  }
  if (typeof value === 'string') return yamlStr(value);
  if (Array.isArray(value)) return `[${value.map(yamlValue).join(', ')}]`;
  return `{${Object.entries(value).map(([k, v]) => `${yamlStr(k)}: ${yamlValue(v)}`).join(', ')}}`;
}

describe('a rendered group script', () => {
  // The OS carries neither NUL nor lone surrogates; validation refuses them in env.
  const envValues: [string, string | number][] = [
    ['E_QUOTES', `'"'''"""`],
    ['E_BACKSLASH', 'C:\\path\\'],
    ['E_NEWLINES', 'one\ntwo\r\nthree\r'],
    ['E_TAB', 'a\tb'],
    ['E_APACHE', '${X} %{ENV:Y}'],
    ['E_INJECT', "'); import os; os._exit(3) #"],
    ['E_UNICODE', 'é 中文 😀 \u2028 \u0085 \u200d \u202e'],
    ['E_EMPTY', ''],
    ['E_LONG', 'x'.repeat(10_000)],
    ['E_NUMBER', 8000],
    ['_lower_ok', 'v'],
  ];
  const settingValues: [string, SettingValue][] = [
    ['S_QUOTES', `'"'''"""`],
    ['S_BACKSLASH', 'trailing\\'],
    ['S_NUL', 'nul\u0000inside'],
    ['S_CONTROL', '\u0001\u001b[31m\u007f\u0085\u009b'],
    ['S_UNICODE', 'é 中文 😀 \u2028 \u200d \u202e \u{10ffff}'],
    ['S_INJECT', "''' + __import__('os')._exit(3) + '''"],
    ['S_LONG', 'ab\n'.repeat(30_000)],
    ['S_NONE', null],
    ['S_TRUE', true],
    ['S_FALSE', false],
    ['S_INTS', [0, -1, 2 ** 53 - 1, -(2 ** 53 - 1)]],
    ['S_FLOATS', [0.1, -0.0, 1e-300, -2.5, NaN, Infinity, -Infinity]],
    ['S_NESTED', { DEFAULT: { ENGINE: 'django.db.backends.sqlite3', NAME: "/srv/'x'/db" }, 'k"ey': ['😀', [], {}] }],
    ['S_EMPTY_LIST', []],
    ['S_EMPTY_DICT', {}],
  ];

  /** Settings are read with integer keys and exact integers (Map, bigint); compare them as plain JS. */
  const plain = (value: unknown): unknown => {
    if (typeof value === 'bigint') return Number(value);
    if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), plain(v)]));
    if (Array.isArray(value)) return value.map(plain);
    return value;
  };

  test('python3 runs it with stub mod_wsgi and settings, and reads back every env and settings value exactly', () => {
    const stubs = join(work, 'stubs');
    const site = join(work, 'project', 'site', 'stubsite');
    mkdirSync(stubs, { recursive: true });
    mkdirSync(site, { recursive: true });
    writeFileSync(join(stubs, 'mod_wsgi.py'), "process_group = 'g1'\n");
    writeFileSync(join(site, '__init__.py'), '');
    writeFileSync(join(site, 'settings.py'), "BASE = 'untouched'\n");

    const text = [
      'site:',
      '  python_path: [site]',
      '  settings_module: stubsite.settings',
      'apache: {conf_file: build/plex.conf, wsgi_dir: build/wsgi, user_file: build/htpasswd}',
      'groups:',
      '  g1:',
      '    env:',
      ...envValues.map(([k, v]) => `      ${k}: ${typeof v === 'number' ? v : yamlStr(v)}`),
      '    settings:',
      ...settingValues.map(([k, v]) => `      ${k}: ${yamlValue(v)}`),
      '  g2:',
      '    env: {OTHER: "not g1"}',
      'users:',
      '  alice: g1',
      '',
    ].join('\n');
    const inventoryFile = join(work, 'project', 'plex.yaml');
    const validation = validateInventoryText(inventoryFile, text);
    assert.deepEqual(validation.problems, []);
    const inventory = validation.inventory!;
    // The YAML round trip itself is exact.
    assert.deepEqual(inventory.groups[0]!.env, envValues.map(([k, v]) => [k, String(v)]));
    assert.deepStrictEqual(inventory.groups[0]!.settings.map(([k, v]) => [k, plain(v)]), settingValues);

    const script = renderFiles(inventory).find((f) => f.kind === 'group-script' && f.group === 'g1');
    assert.ok(script, 'a group script for g1');
    for (const line of script.content.split('\n')) assert.match(line, printableAscii);
    const scriptFile = join(work, 'group-g1.wsgi');
    writeFileSync(scriptFile, script.content);

    const driver = `${pyTag}
import os, runpy, sys
keys = json.loads(sys.argv[2])
before = set(sys.modules)
runpy.run_path(sys.argv[1])
settings = sys.modules['stubsite.settings']
print(json.dumps({
    'env': [[k, os.environ[k]] for k in keys['env']],
    'settings': [[k, tag(getattr(settings, k))] for k in keys['settings']],
    'base': settings.BASE,
    'dsm': os.environ['DJANGO_SETTINGS_MODULE'],
    'instance': sys.modules['plexctl_instance'].group,
    'other': os.environ.get('OTHER'),
    'path0': sys.path[0],
}, ensure_ascii=True))
`;
    const keys = { env: envValues.map(([k]) => k), settings: settingValues.map(([k]) => k) };
    const out = python(['-c', driver, scriptFile, JSON.stringify(keys)], { env: { PYTHONPATH: stubs } });
    const result = JSON.parse(out) as Record<string, unknown>;
    assert.deepEqual(result.env, envValues.map(([k, v]) => [k, String(v)]));
    assert.deepStrictEqual(result.settings, settingValues.map(([k, v]) => [k, tag(v)]));
    assert.equal(result.base, 'untouched');
    assert.equal(result.dsm, 'stubsite.settings');
    assert.equal(result.instance, 'g1');
    assert.equal(result.other, null, "g2's env is not set by g1's script");
    assert.equal(result.path0, join(work, 'project', 'site'));
  });

  test('the group script refuses to run in another process group', () => {
    const stubs = join(work, 'stubs-g2');
    mkdirSync(stubs, { recursive: true });
    writeFileSync(join(stubs, 'mod_wsgi.py'), "process_group = 'g2'\n");
    const { inventory } = validateInventoryText(
      join(work, 'plex.yaml'),
      'site: {settings_module: nosuch.settings}\napache: {conf_file: a, wsgi_dir: w, user_file: h}\ngroups:\n  g1:\n  g2:\n',
    );
    const script = renderFiles(inventory!).find((f) => f.group === 'g1')!;
    const scriptFile = join(work, 'group-g1-other.wsgi');
    writeFileSync(scriptFile, script.content);
    assert.throws(
      () => execFileSync(PYTHON, [scriptFile], { env: { PATH: process.env.PATH, PYTHONPATH: stubs }, stdio: 'pipe' }),
      (error: { stderr?: Buffer }) => /settings of group g1 loaded in group 'g2'/.test(String(error.stderr)),
    );
  });
});

describe('apacheArg and apacheQuoted', () => {
  test('plain values stay bare', () => {
    for (const value of ['django1', '/srv/plex/build/plex.conf', 'threads=5', 'user=www-data', 'txt:/a/b', 'a@b+c,d', '-x', '.']) {
      assert.equal(apacheArg(value), value);
    }
  });

  test('values with spaces or other characters are double-quoted', () => {
    assert.equal(apacheArg('plex demo'), '"plex demo"');
    assert.equal(apacheArg("it's"), `"it's"`);
    assert.equal(apacheArg('#hash'), '"#hash"');
    assert.equal(apacheArg('a>b<c'), '"a>b<c"');
    assert.equal(apacheArg('$HOME and %PATH'), '"$HOME and %PATH"');
    assert.equal(apacheArg('é 中文 😀'), '"é 中文 😀"');
    assert.equal(apacheArg('trailing space '), '"trailing space "');
  });

  test('apacheQuoted always quotes', () => {
    assert.equal(apacheQuoted('/srv/plex/wsgi'), '"/srv/plex/wsgi"');
    assert.equal(apacheQuoted('txt:/a b/procmap.txt'), '"txt:/a b/procmap.txt"');
  });

  const unsafe = ['', '"', 'say "hi"', '\\', 'a\\b', 'trailing\\', 'line\nbreak', 'cr\r', 'tab\t', 'nul\u0000', 'esc\u001b', 'del\u007f', '${X}', 'a${b}c', '%{ENV:Y}', 'x%{REMOTE_USER}'];
  for (const value of unsafe) {
    test(`refuses ${JSON.stringify(value)}`, () => {
      assert.throws(() => apacheArg(value), UnsafeApacheText);
      assert.throws(() => apacheQuoted(value), UnsafeApacheText);
    });
  }
});
