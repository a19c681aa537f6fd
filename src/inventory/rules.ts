/**
 * Rules a JSON Schema cannot express. Each takes the schema-checked data and returns issues;
 * `validate.ts` runs them all so every problem is reported at once.
 */
import { basename } from 'node:path';
import type { KeyPath, SchemaIssue } from './check-schema.js';
import type { Document } from 'yaml';
import { didYouMean } from './did-you-mean.js';
import { quote } from './quote.js';
import { apacheUser, leadingDashText, titleProblem } from '../apache/name-limits.js';
import { accountNamePattern, runAsOf, type Isolation } from './run-as.js';
import { ownerKeyPath, settingsAt, userKeys, type ValuesOwner } from './yaml-values.js';
import { daemonDefaultsOf, flatDaemonKeys } from './defaults.js';
import { resolve } from 'node:path';
import { parseDuration } from './duration.js';
import { loginDirFor } from './login-dir.js';

type Data = Record<string, unknown>;
/** `dir`: the inventory's directory, against which relative paths are resolved. */
type Rule = (data: Data, doc: Document, dir: string) => SchemaIssue[];

const asRecord = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/** Every user maps to a group that exists. */
const usersMapToExistingGroups: Rule = (data) => {
  const groups = Object.keys(asRecord(data.groups));
  const defined = new Set(groups);
  return Object.entries(asRecord(data.users))
    .filter(([, group]) => typeof group === 'string' && !defined.has(group))
    .map(([user, group]) => ({
      path: ['users', user],
      at: 'value' as const,
      message: `group ${quote(String(group))} is not defined under groups${didYouMean(String(group), groups) || ` (defined: ${groups.join(', ')})`}`,
    }));
};

/**
 * A group's process title must fit in Apache's argv[0] (see titleProblem). The schema's limit fits
 * /usr/sbin/apache2; a shorter binary path given in `apache.ctl` leaves less room.
 */
const titlesFitArgv0: Rule = (data) => {
  const ctl = asRecord(data.apache).ctl;
  const argv0 = Array.isArray(ctl) && typeof ctl[0] === 'string' ? ctl[0] : '';
  if (!['apache2', 'httpd'].includes(basename(argv0))) return [];
  return Object.keys(asRecord(data.groups)).flatMap((name) => {
    const message = titleProblem(name, argv0);
    return message === undefined ? [] : [{ path: ['groups', name], at: 'key' as const, message }];
  });
};

/** A lone UTF-16 surrogate (from a YAML "\uD800" escape) cannot be encoded for Python or the OS. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Python refuses integer literals of more digits (3.11's int_max_str_digits), and its parser nesting past about 200 levels. */
export const maxPythonIntDigits = 4300;
export const maxPythonNesting = 100;

function unrepresentable(value: unknown, path: KeyPath, depth = 0): SchemaIssue[] {
  if (depth > maxPythonNesting) {
    return [{ path, at: 'value', message: `nests lists or mappings more than ${maxPythonNesting} deep, past what Python's parser reads` }];
  }
  if ((typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value))) && String(value).replace('-', '').length > maxPythonIntDigits) {
    return [{ path, at: 'value', message: `is an integer of more than ${maxPythonIntDigits} digits, which Python refuses to read` }];
  }
  if (typeof value === 'string') {
    return loneSurrogate.test(value)
      ? [{ path, at: 'value', message: 'contains a lone UTF-16 surrogate, which Python and the OS cannot carry' }]
      : [];
  }
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'bigint') return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => unrepresentable(item, [...path, i], depth + 1));
  if (value instanceof Map) {
    return [...value].flatMap(([k, v]) => [
      ...(k !== null && typeof k === 'object'
        ? [{ path, at: 'value' as const, message: 'has a list or mapping as a key, which Python cannot use as a dict key' }]
        : unrepresentable(k, path, depth + 1)),
      ...unrepresentable(v, [...path, pathSegment(k)], depth + 1),
    ]);
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.entries(value).flatMap(([k, v]) => [
      ...unrepresentable(k, path, depth + 1),
      ...unrepresentable(v, [...path, k], depth + 1),
    ]);
  }
  return [{ path, at: 'value', message: 'is not a value plexctl can write as Python (use strings, numbers, booleans, lists and mappings)' }];
}

/** Every place env and settings are written: `defaults`, then each group. */
function valueOwners(data: Data): { owner: ValuesOwner; raw: Record<string, unknown> }[] {
  return [
    { owner: 'defaults' as const, raw: asRecord(data.defaults) },
    ...Object.entries(asRecord(data.groups)).map(([name, group]) => ({ owner: { group: name }, raw: asRecord(group) })),
  ];
}

/** Env and settings values can be carried to Python exactly. */
const valuesRepresentable: Rule = (data, doc) =>
  valueOwners(data).flatMap(({ owner, raw }) => [
    ...Object.entries(asRecord(raw.env)).flatMap(([k, v]) => unrepresentable(v, [...ownerKeyPath(owner, 'env'), k])),
    ...settingsAt(doc, owner).flatMap(([k, v]) => unrepresentable(v, [...ownerKeyPath(owner, 'settings'), k])),
  ]);

/** A settings-mapping key (any scalar) as a key-path segment. */
function pathSegment(key: unknown): string {
  return typeof key === 'string' ? key : String(key);
}

/** User names are plain strings, each once (an alias key names the same user again), encodable. */
const userNamesAreStrings: Rule = (_data, doc) => {
  const seen = new Map<string, boolean>();
  return userKeys(doc).flatMap(({ text, scalar, alias }): SchemaIssue[] => {
    const path = ['users', text];
    if (!scalar) return [{ path: ['users'], at: 'value', message: 'a user name must be a string, not a list or mapping' }];
    // Plain duplicates are the YAML parser's to report; an alias repeating a key is not seen by it.
    if (seen.has(text) && (alias || seen.get(text))) {
      return [{ path, at: 'key', message: `duplicate user ${quote(text)} (an alias names the same key again)` }];
    }
    seen.set(text, alias);
    return loneSurrogate.test(text) ? [{ path, at: 'key', message: 'contains a lone UTF-16 surrogate, which cannot be written to procmap.txt or user_file' }] : [];
  });
};

/**
 * Python dict keys that compare equal collapse into one: 1, 1.0 and true are the same key.
 * (YAML treats them as different keys; Python would silently keep only the last.)
 */
function pythonKeyCollisions(value: unknown, path: KeyPath): SchemaIssue[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => pythonKeyCollisions(item, [...path, i]));
  if (!(value instanceof Map)) return [];
  const seen = new Map<string, unknown>();
  const issues: SchemaIssue[] = [];
  for (const [k, v] of value) {
    const norm = typeof k === 'boolean' ? String(Number(k)) : typeof k === 'number' && Number.isInteger(k) ? String(k) : typeof k === 'bigint' ? k.toString() : `${typeof k}:${String(k)}`;
    if (seen.has(norm)) {
      issues.push({ path, at: 'value', message: `keys ${quote(String(seen.get(norm)))} and ${quote(String(k))} are the same key in Python (1, 1.0 and true are equal); keep one` });
    }
    seen.set(norm, k);
    issues.push(...pythonKeyCollisions(v, [...path, pathSegment(k)]));
  }
  return issues;
}

const settingsKeysDistinctInPython: Rule = (data, doc) =>
  valueOwners(data).flatMap(({ owner }) =>
    settingsAt(doc, owner).flatMap(([k, v]) => pythonKeyCollisions(v, [...ownerKeyPath(owner, 'settings'), k])),
  );

/** DJANGO_SETTINGS_MODULE comes from settings_module; an env entry would be silently overridden. */
const envLeavesSettingsModule: Rule = (data) =>
  valueOwners(data).flatMap(({ owner, raw }) =>
    Object.keys(asRecord(raw.env))
      .filter((k) => k === 'DJANGO_SETTINGS_MODULE')
      .map((k) => ({ path: [...ownerKeyPath(owner, 'env'), k], at: 'key' as const, message: 'is set from settings_module (the site\'s or the group\'s); use that instead' })),
  );

/** Settings that plexctl writes itself from site keys: set twice, one would silently lose. */
const settingsLeftToSiteKeys: Rule = (data) => {
  const site = asRecord(data.site);
  const owned: [string, string][] = [
    ...(site.database !== undefined ? [['DATABASES', 'site.database']] as [string, string][] : []),
    ...(site.static !== undefined ? [['STATIC_URL', 'site.static'], ['STATIC_ROOT', 'site.static']] as [string, string][] : []),
  ];
  return valueOwners(data).flatMap(({ owner, raw }) =>
    owned
      .filter(([setting]) => setting in asRecord(raw.settings))
      .map(([setting, key]) => ({ path: [...ownerKeyPath(owner, 'settings'), setting], at: 'key' as const, message: `is set by ${key}; remove one of the two` })),
  );
};

/** `defaults` is either the old flat form or the one with daemon/env/settings, not both. */
const defaultsOneForm: Rule = (data) => {
  const defaults = asRecord(data.defaults);
  if (!('daemon' in defaults)) return [];
  return flatDaemonKeys(defaults).map((key) => ({
    path: ['defaults', key],
    at: 'key' as const,
    message: 'is a daemon option written directly under defaults, beside defaults.daemon: move it into defaults.daemon',
  }));
};

/** Static files are served beside the site, never where the login page or the site's own files are. */
const staticApart: Rule = (data, _doc, dir) => {
  const site = asRecord(data.site);
  const staticFiles = asRecord(site.static);
  const issues: SchemaIssue[] = [];
  const apache = asRecord(data.apache);
  if (typeof staticFiles.url === 'string' && apache.auth === 'form') {
    const authPath = typeof apache.auth_path === 'string' ? apache.auth_path : '/_plex/';
    if (staticFiles.url.startsWith(authPath) || authPath.startsWith(staticFiles.url)) {
      issues.push({ path: ['site', 'static', 'url'], at: 'value', message: `must not overlap apache.auth_path (${authPath}), where the login page is` });
    }
  }
  if (typeof staticFiles.dir === 'string') {
    const path = resolve(dir, staticFiles.dir);
    const inside = (p: string, parent: string) => p === parent || p.startsWith(`${parent}/`) || parent.startsWith(`${p}/`);
    for (const [key, value] of [['apache.wsgi_dir', apache.wsgi_dir], ['site.data_dir', site.data_dir ?? 'data']] as const) {
      if (typeof value === 'string' && inside(path, resolve(dir, value))) {
        issues.push({ path: ['site', 'static', 'dir'], at: 'value', message: `must not be ${key} or inside or above it: Apache serves every file in it${site.static && asRecord(site.static).protected ? ' to logged-in users' : ' to anyone'}` });
      }
    }
  }
  return issues;
};

/**
 * conf_file, user_file and the generated files in wsgi_dir are different files: otherwise one
 * render would overwrite another (the passwords with the Apache fragment, say).
 */
const pathsApart: Rule = (data, _doc, dir) => {
  const apache = asRecord(data.apache);
  const at = (p: unknown) => (typeof p === 'string' ? resolve(dir, p) : undefined);
  const wsgiDir = at(apache.wsgi_dir);
  const issues: SchemaIssue[] = [];
  for (const key of ['conf_file', 'user_file', 'site_file'] as const) {
    const path = at(apache[key]);
    if (path === undefined || wsgiDir === undefined) continue;
    if (path === wsgiDir || path.startsWith(`${wsgiDir}/`)) {
      issues.push({ path: ['apache', key], at: 'value', message: `must not be wsgi_dir or inside it (plexctl owns the files there)` });
    }
  }
  const conf = at(apache.conf_file);
  if (conf !== undefined && conf === at(apache.user_file)) {
    issues.push({ path: ['apache', 'conf_file'], at: 'value', message: 'must not be the same file as user_file' });
  }
  const site = at(apache.site_file);
  if (site !== undefined && (site === conf || site === at(apache.user_file) || (conf !== undefined && site === `${conf}.session-key`))) {
    issues.push({ path: ['apache', 'site_file'], at: 'value', message: 'must be a file of its own: not conf_file, user_file or the session key' });
  }
  // Each group owns a directory under data_dir: none of plexctl's own files may sit there.
  const dataDir = at(asRecord(data.site).data_dir ?? 'data');
  const inside = (path: string, parent: string) => path === parent || path.startsWith(`${parent}/`);
  if (dataDir !== undefined) {
    for (const key of ['wsgi_dir', 'conf_file', 'user_file', 'site_file'] as const) {
      const path = at(apache[key]);
      if (path !== undefined && inside(path, dataDir)) {
        issues.push({ path: ['apache', key], at: 'value', message: `must not be site.data_dir (${dataDir}) or inside it: the groups own the directories there` });
      }
    }
    if (wsgiDir !== undefined && inside(dataDir, wsgiDir)) {
      issues.push({ path: asRecord(data.site).data_dir === undefined ? ['site'] : ['site', 'data_dir'], at: asRecord(data.site).data_dir === undefined ? 'key' : 'value', message: 'must not be wsgi_dir or inside it (plexctl owns the files there)' });
    }
  }
  return issues;
};

/** A user name starting with "-" would be read as an option by the tools that take it (the password file's tool). */
const userNamesNotOptions: Rule = (data) =>
  Object.keys(asRecord(data.users))
    .filter((user) => user.startsWith('-'))
    .map((user) => ({ path: ['users', user], at: 'key' as const, message: leadingDashText }));

/**
 * Per-group isolation: every group runs as its own account, never root (mod_wsgi refuses it
 * anyway) nor Apache's user, and no two groups share one. `isolation: shared` allows sharing
 * (status and doctor then warn on every run); root is refused either way.
 */
const groupsRunApart: Rule = (data) => {
  const isolation: Isolation = data.isolation === 'shared' ? 'shared' : 'per-group';
  const defaults = daemonDefaultsOf(data.defaults);
  const defaultsUserPath: KeyPath = 'daemon' in asRecord(data.defaults) && typeof asRecord(asRecord(data.defaults).daemon).user === 'string' ? ['defaults', 'daemon', 'user'] : ['defaults', 'user'];
  const issues: SchemaIssue[] = [];
  const seen = new Map<string, string>();
  for (const [name, group] of Object.entries(asRecord(data.groups))) {
    const own = asRecord(asRecord(group).daemon);
    // A group name the schema refuses gets no account name of its own to complain about.
    if (typeof own.user !== 'string' && typeof defaults.user !== 'string' && !/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) continue;
    const prefix = asRecord(data.site).account_prefix;
    const runAs = runAsOf(isolation, name, own, defaults, typeof prefix === 'string' ? prefix : undefined);
    if (runAs === undefined) continue;
    const where: KeyPath = typeof own.user === 'string' ? ['groups', name, 'daemon', 'user'] : typeof defaults.user === 'string' ? defaultsUserPath : ['groups', name];
    const at = where.length === 2 && where[0] === 'groups' ? ('key' as const) : ('value' as const);
    if (runAs.user === 'root' || runAs.user === '0' || runAs.user === '#0') {
      issues.push({ path: where, at, message: 'a group must not run as root (mod_wsgi refuses it, and it would own the machine)' });
      continue;
    }
    if (!accountNamePattern.test(runAs.user) && !(isolation === 'shared' && runAs.user === apacheUser)) {
      issues.push({ path: where, at, message: `the account ${quote(runAs.user)} is not a valid system user name (lower-case letters, digits, "_" and "-", starting with a letter or "_", at most 32)` });
      continue;
    }
    if (isolation === 'shared') continue;
    if (runAs.user === apacheUser) {
      issues.push({ path: where, at, message: `a group must not run as Apache's user ${apacheUser}: it could read user_file and the map, and signal every group (set \`isolation: shared\` to allow it, not isolated)` });
      continue;
    }
    const other = seen.get(runAs.user);
    if (other !== undefined) {
      issues.push({ path: where, at, message: `runs as ${runAs.user}, like group ${other}: groups sharing an account can read each other's data and signal each other's daemons (give each its own, or set \`isolation: shared\`)` });
    } else {
      seen.set(runAs.user, name);
    }
  }
  return issues;
};

/** PLEXCTL_DATA_DIR is set by plexctl to the group's data directory. */
const envLeavesDataDir: Rule = (data) =>
  valueOwners(data).flatMap(({ owner, raw }) =>
    (['env', 'settings'] as const).flatMap((where) =>
      Object.keys(asRecord(raw[where]))
        .filter((k) => k === 'PLEXCTL_DATA_DIR')
        .map((k) => ({ path: [...ownerKeyPath(owner, where), k], at: 'key' as const, message: 'is set by plexctl to the group\'s data directory (site.data_dir); set site.data_dir instead' })),
    ),
  );

/**
 * With auth: form, the login directory is served to anyone (Alias): neither user_file nor
 * wsgi_dir may be in it. The session must expire (SessionMaxAge 0 would be forever, and the
 * cookie is kept out of the browser's disk only for a Max-Age of 10 s or more), and its
 * expiry is renewed more often than it runs out.
 */
const formLoginSound: Rule = (data, _doc, dir) => {
  const apache = asRecord(data.apache);
  if (apache.auth !== 'form') return [];
  const issues: SchemaIssue[] = [];
  const conf = typeof apache.conf_file === 'string' ? resolve(dir, apache.conf_file) : undefined;
  if (conf !== undefined) {
    const login = loginDirFor(conf);
    for (const key of ['user_file', 'wsgi_dir'] as const) {
      const path = typeof apache[key] === 'string' ? resolve(dir, apache[key] as string) : undefined;
      if (path !== undefined && (path === login || path.startsWith(`${login}/`))) {
        issues.push({ path: ['apache', key], at: 'value', message: `must not be inside ${login}, the login page's directory, which Apache serves to anyone` });
      }
    }
  }
  const session = asRecord(apache.session);
  const maxAge = typeof session.max_age === 'string' ? parseDuration(session.max_age) : 8 * 3600;
  const idle = typeof session.idle_update === 'string' ? parseDuration(session.idle_update) : 300;
  if (maxAge !== undefined && maxAge < 10) {
    issues.push({ path: ['apache', 'session', 'max_age'], at: 'value', message: 'must be at least 10s (0 would mean a session never ends)' });
  }
  if (maxAge !== undefined && idle !== undefined && idle >= maxAge) {
    issues.push({ path: ['apache', 'session', 'idle_update'], at: 'value', message: `must be shorter than max_age (${maxAge} s), or a session would end while in use` });
  }
  return issues;
};

/** site.account_ids is a range: min at most max. */
const accountIdsRange: Rule = (data) => {
  const ids = asRecord(asRecord(data.site).account_ids);
  // Integers are read as bigint (yaml-values.ts).
  const isInt = (v: unknown): v is number | bigint => typeof v === 'number' || typeof v === 'bigint';
  if (isInt(ids.min) && isInt(ids.max) && ids.min > ids.max) {
    return [{ path: ['site', 'account_ids', 'max'], at: 'value', message: `must be at least min (${ids.min})` }];
  }
  return [];
};

export const rules: Rule[] = [
  userNamesNotOptions,
  groupsRunApart,
  envLeavesDataDir,
  formLoginSound,
  usersMapToExistingGroups,
  userNamesAreStrings,
  titlesFitArgv0,
  valuesRepresentable,
  settingsKeysDistinctInPython,
  envLeavesSettingsModule,
  settingsLeftToSiteKeys,
  defaultsOneForm,
  staticApart,
  pathsApart,
  accountIdsRange,
];
