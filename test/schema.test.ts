/**
 * The JSON Schema that `plexctl schema` prints (for editors) and the validator plexctl runs
 * (check-schema.ts interpreting the same object) agree: over the demo inventory and many
 * mutations of it, a standard draft-07 validator (ajv) accepts exactly when checkSchema
 * reports no issue.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { checkSchema } from '../src/inventory/check-schema.js';
import { parseYaml } from '../src/inventory/parse.js';
import { inventorySchema } from '../src/inventory/schema.js';
import { repoRoot } from './helpers/e2e.js';

const demoFile = join(repoRoot, 'examples', 'demo', 'plex.yaml');

type Data = Record<string, any>;

/** YAML integers arrive as bigint (intAsBigInt); a JSON validator sees numbers. NaN and Infinity stay as they are. */
function asJsonNumbers(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(asJsonNumbers);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asJsonNumbers(v)]));
  }
  return value;
}

async function demoData(): Promise<Data> {
  const parsed = parseYaml(demoFile, await readFile(demoFile, 'utf8'));
  assert.deepEqual(parsed.problems, []);
  return parsed.data as Data;
}

/** Each case changes a fresh copy of the demo's data; `valid` is what both must say. */
const mutations: { name: string; valid: boolean; change: (d: Data) => void }[] = [
  { name: 'the demo as it is', valid: true, change: () => {} },
  { name: 'unknown top-level key', valid: false, change: (d) => (d.extra = 1) },
  { name: 'unknown key under apache (typo)', valid: false, change: (d) => ((d.apache.conf_fil = d.apache.conf_file), delete d.apache.conf_file) },
  { name: 'unknown key in a group', valid: false, change: (d) => (d.groups.django1.setting = {}) },
  { name: 'wrong type: threads is a string', valid: false, change: (d) => (d.defaults = { threads: 'three' }) },
  { name: 'wrong type: threads is a float', valid: false, change: (d) => (d.defaults = { threads: 2.5 }) },
  { name: 'negative processes', valid: false, change: (d) => (d.defaults = { processes: -1n }) },
  { name: 'unknown daemon option', valid: false, change: (d) => (d.groups.django1.daemon = { thread: 2n }) },
  { name: 'display-name is plexctl\'s', valid: false, change: (d) => (d.defaults = { 'display-name': '%{GROUP}' }) },
  { name: 'group name starting with a digit', valid: false, change: (d) => (d.groups['1bad'] = null) },
  { name: 'group name of 11 characters', valid: false, change: (d) => (d.groups.abcdefghijk = null) },
  { name: 'group name of 10 characters, null body', valid: true, change: (d) => (d.groups.abcdefghij = null) },
  { name: 'user name with a space', valid: false, change: (d) => (d.users['eve smith'] = 'django1') },
  { name: 'user name starting with #', valid: false, change: (d) => (d.users['#eve'] = 'django1') },
  { name: 'user name with a colon', valid: false, change: (d) => (d.users['eve:x'] = 'django1') },
  { name: 'user name of 65 characters', valid: false, change: (d) => (d.users['u'.repeat(65)] = 'django1') },
  { name: 'user name of 64 characters, non-ASCII', valid: true, change: (d) => (d.users['é'.repeat(64)] = 'django1') },
  { name: 'user mapped to a number', valid: false, change: (d) => (d.users.eve = 5n) },
  { name: 'users empty', valid: true, change: (d) => (d.users = null) },
  { name: 'missing site.settings_module', valid: false, change: (d) => delete d.site.settings_module },
  { name: 'missing apache', valid: false, change: (d) => delete d.apache },
  { name: 'missing groups', valid: false, change: (d) => delete d.groups },
  { name: 'missing apache.user_file', valid: false, change: (d) => delete d.apache.user_file },
  { name: 'no group at all', valid: false, change: (d) => (d.groups = {}) },
  { name: 'restart_signal not allowed', valid: false, change: (d) => (d.apache.restart_signal = 'SIGKILL') },
  { name: 'restart_signal SIGUSR1', valid: true, change: (d) => (d.apache.restart_signal = 'SIGUSR1') },
  { name: 'ctl empty', valid: false, change: (d) => (d.apache.ctl = []) },
  { name: 'ctl a string', valid: false, change: (d) => (d.apache.ctl = '/usr/sbin/apache2ctl') },
  { name: 'mount with a trailing slash', valid: false, change: (d) => (d.site.mount = '/app/') },
  { name: 'mount /app', valid: true, change: (d) => (d.site.mount = '/app') },
  { name: 'settings_module not dotted Python', valid: false, change: (d) => (d.site.settings_module = 'demo..settings') },
  { name: 'python_path not a list', valid: false, change: (d) => (d.site.python_path = 'site') },
  { name: 'python_path entry with a newline', valid: false, change: (d) => (d.site.python_path = ['si\nte']) },
  { name: 'wsgi_dir with a wildcard', valid: false, change: (d) => (d.apache.wsgi_dir = 'build/*') },
  { name: 'realm with ${...}', valid: false, change: (d) => (d.apache.realm = 'a ${HOME}') },
  { name: 'conf_file with a double quote', valid: false, change: (d) => (d.apache.conf_file = 'a"b') },
  { name: 'empty user_file', valid: false, change: (d) => (d.apache.user_file = '') },
  { name: 'env name with a dash', valid: false, change: (d) => (d.groups.django1.env = { 'BAD-NAME': 'x' }) },
  { name: 'env value with NUL', valid: false, change: (d) => (d.groups.django1.env = { X: 'a\u0000b' }) },
  { name: 'env value a list', valid: false, change: (d) => (d.groups.django1.env = { X: ['a'] }) },
  { name: 'env values: number, float, quotes and ${}', valid: true, change: (d) => (d.groups.django1.env = { A: 1n, B: 1.5, C: '"${x}%{y}\\' }) },
  { name: 'lower-case setting', valid: false, change: (d) => (d.groups.django1.settings = { debug: true }) },
  { name: 'settings of any shape', valid: true, change: (d) => (d.groups.django1.settings = { A: [1n, { b: null }], B: 'x' }) },
  { name: 'a group that is a list', valid: false, change: (d) => (d.groups.django1 = ['x']) },
  { name: 'site is null', valid: false, change: (d) => (d.site = null) },
  { name: 'the whole document a list', valid: false, change: (d) => Object.assign(d, { __replace: [] }) },
];

describe('the JSON Schema and the validator agree', () => {
  const ajv = new Ajv({ strict: false, allErrors: true });

  it('ajv knows draft-07 by default, and the schema is a valid draft-07 schema', () => {
    assert.ok(ajv.getSchema('http://json-schema.org/draft-07/schema'), 'draft-07 meta-schema built in');
    assert.equal(ajv.validateSchema(inventorySchema as object), true, ajv.errorsText());
  });

  it('errorMessage is the only non-standard keyword', () => {
    // strictSchema refuses unknown keywords; union types ("type": [...]) are standard draft-07.
    const strict = new Ajv({ strict: false, strictSchema: true, allErrors: true });
    strict.addKeyword('errorMessage');
    assert.doesNotThrow(() => strict.compile(inventorySchema as object));
  });

  it('accept exactly the same inventories', async () => {
    const validate = ajv.compile(inventorySchema as object);
    const demo = await demoData();
    assert.ok(mutations.length > 12);
    for (const mutation of mutations) {
      const copy = structuredClone(demo);
      mutation.change(copy);
      const data: unknown = '__replace' in copy ? copy.__replace : copy;
      const issues = checkSchema(data, inventorySchema);
      const json = asJsonNumbers(data);
      const accepted = validate(json) as boolean;
      const detail = `${mutation.name}: checkSchema ${JSON.stringify(issues.map((i) => i.message))}; ajv ${ajv.errorsText(validate.errors)}`;
      assert.equal(issues.length === 0, mutation.valid, detail);
      assert.equal(accepted, mutation.valid, detail);
      assert.equal(checkSchema(json, inventorySchema).length === 0, mutation.valid, `${detail} (as JSON numbers)`);
    }
  });

  it('outside JSON (YAML .inf and .nan) plexctl is the stricter one', () => {
    // JSON has no Infinity or NaN, so the schema says nothing about them; ajv (strictNumbers off,
    // its default) even takes Infinity for an integer because it tests `x % 1`. plexctl refuses
    // .inf for an integer option and keeps .nan/.inf env values as their source text.
    const validate = ajv.compile(inventorySchema as object);
    const data = { site: { settings_module: 'a.b' }, apache: { conf_file: 'c', wsgi_dir: 'w', user_file: 'u' }, groups: { g: null } };
    const infinite = { ...data, defaults: { threads: Infinity } };
    assert.deepEqual(checkSchema(infinite, inventorySchema).map((i) => i.message), ['expected an integer, found Infinity']);
    assert.equal(validate(infinite), true, 'ajv\'s documented leniency, not a disagreement over JSON data');
    assert.equal(new Ajv({ strict: false, allErrors: true, strictNumbers: true }).validate(inventorySchema as object, infinite), false);
  });
});
