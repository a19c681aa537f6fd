/**
 * Rules a JSON Schema cannot express. Each takes the schema-checked data and returns issues;
 * `validate.ts` runs them all so every problem is reported at once.
 */
import { basename } from 'node:path';
import type { KeyPath, SchemaIssue } from './check-schema.js';
import type { Document } from 'yaml';
import { didYouMean } from './did-you-mean.js';
import { settingsOf } from './yaml-values.js';

type Data = Record<string, unknown>;
type Rule = (data: Data, doc: Document) => SchemaIssue[];

const asRecord = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/** Every user maps to a group that exists. */
const usersMapToExistingGroups: Rule = (data) => {
  const groups = Object.keys(asRecord(data.groups));
  return Object.entries(asRecord(data.users))
    .filter(([, group]) => typeof group === 'string' && !groups.includes(group))
    .map(([user, group]) => ({
      path: ['users', user],
      at: 'value' as const,
      message: `group "${String(group)}" is not defined under groups${didYouMean(String(group), groups) || ` (defined: ${groups.join(', ')})`}`,
    }));
};

/**
 * mod_wsgi writes `(wsgi:NAME)` over Apache's argv[0] and cuts it at argv[0]'s length; a cut title
 * could match another group. The schema's limit fits /usr/sbin/apache2; a shorter binary path
 * given in `apache.ctl` leaves less room.
 */
const titlesFitArgv0: Rule = (data) => {
  const ctl = asRecord(data.apache).ctl;
  const argv0 = Array.isArray(ctl) && typeof ctl[0] === 'string' ? ctl[0] : '';
  if (!['apache2', 'httpd'].includes(basename(argv0))) return [];
  const room = argv0.length - '(wsgi:)'.length;
  return Object.keys(asRecord(data.groups))
    .filter((name) => name.length > room)
    .map((name) => ({
      path: ['groups', name],
      at: 'key' as const,
      message: `the process title (wsgi:${name}) does not fit in argv[0] "${argv0}" (${room} characters of room); use a shorter group name`,
    }));
};

/** A lone UTF-16 surrogate (from a YAML "\uD800" escape) cannot be encoded for Python or the OS. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function unrepresentable(value: unknown, path: KeyPath): SchemaIssue[] {
  if (typeof value === 'string') {
    return loneSurrogate.test(value)
      ? [{ path, at: 'value', message: 'contains a lone UTF-16 surrogate, which Python and the OS cannot carry' }]
      : [];
  }
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'bigint') return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => unrepresentable(item, [...path, i]));
  if (value instanceof Map) {
    return [...value].flatMap(([k, v]) => [
      ...(k !== null && typeof k === 'object'
        ? [{ path, at: 'value' as const, message: 'has a list or mapping as a key, which Python cannot use as a dict key' }]
        : unrepresentable(k, path)),
      ...unrepresentable(v, [...path, keyText(k)]),
    ]);
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.entries(value).flatMap(([k, v]) => [
      ...unrepresentable(k, path),
      ...unrepresentable(v, [...path, k]),
    ]);
  }
  return [{ path, at: 'value', message: 'is not a value plexctl can write as Python (use strings, numbers, booleans, lists and mappings)' }];
}

/** Env and settings values can be carried to Python exactly. */
const valuesRepresentable: Rule = (data, doc) =>
  Object.entries(asRecord(data.groups)).flatMap(([name, group]) => {
    const g = asRecord(group);
    return [
      ...Object.entries(asRecord(g.env)).flatMap(([k, v]) => unrepresentable(v, ['groups', name, 'env', k])),
      ...settingsOf(doc, name).flatMap(([k, v]) => unrepresentable(v, ['groups', name, 'settings', k])),
    ];
  });

/** A mapping key's text for a key path. */
function keyText(key: unknown): string {
  return typeof key === 'string' ? key : String(key);
}

export const rules: Rule[] = [usersMapToExistingGroups, titlesFitArgv0, valuesRepresentable];
