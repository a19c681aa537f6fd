/** YAML text -> a validated Inventory, or every problem found. Pure. */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Problem } from '../errors.js';
import { checkSchema, type SchemaIssue } from './check-schema.js';
import { formatKeyPath, positionOf } from './locate.js';
import { parseYaml, type ParsedYaml } from './parse.js';
import { rules } from './rules.js';
import { inventorySchema } from './schema.js';
import type { Document } from 'yaml';
import type { DaemonOptions, Inventory, RestartSignal } from './types.js';
import { runAsOf, type Isolation } from './run-as.js';

const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));
import { envAt, settingsAt, usersOf } from './yaml-values.js';
import { daemonDefaultsOf, flatDaemonKeys, mergeEntries } from './defaults.js';
import { durationSeconds } from './duration.js';

/**
 * The inventory's own path is in every generated file (the marker line) and, through relative
 * paths, in Apache directives and Python: it must be text each of them carries as data.
 */
const unsafeInventoryPath = /[\u0000-\u001f\u007f-\u009f\u2028\u2029"\\*?[\]]|\$\{|%\{/;

function inventoryPathProblems(file: string): Problem[] {
  if (!unsafeInventoryPath.test(file)) return [];
  return [{
    file: JSON.stringify(file).slice(1, -1),
    line: 1,
    col: 1,
    path: '(document)',
    message: 'the inventory\'s path has a control character, a quote, a backslash, a wildcard, "${" or "%{", which cannot be written into Apache\'s configuration and the generated files; move it to a plain path',
  }];
}

/** Past this many, the rest are counted, not listed (a mangled file can yield thousands). */
const maxProblems = 100;

export interface Validation {
  parsed: ParsedYaml;
  inventory?: Inventory;
  problems: Problem[];
  /** What is accepted but should be updated (an old form), located like problems. */
  notices: Problem[];
}

export function validateInventoryText(file: string, text: string): Validation {
  const parsed = parseYaml(file, text);
  if (parsed.data === undefined) return { parsed, problems: parsed.problems, notices: [] };
  const schemaIssues = checkSchema(parsed.data, inventorySchema);
  // Rules tolerate data the schema refused, so every problem is reported in one run.
  const data = parsed.data;
  const ruleIssues =
    data !== null && typeof data === 'object' && !Array.isArray(data)
      ? rules.flatMap((rule) => rule(data as Record<string, unknown>, parsed.doc, dirname(file)))
      : [];
  const locate = (issue: SchemaIssue): Problem => ({
    file,
    ...positionOf(parsed.doc, parsed.lines, issue.path, issue.at),
    path: formatKeyPath(issue.path),
    message: issue.message,
  });
  const problems = [...parsed.problems, ...schemaIssues.map(locate), ...ruleIssues.map(locate), ...inventoryPathProblems(file)];
  problems.sort((a, b) => a.line - b.line || a.col - b.col);
  if (problems.length > maxProblems) {
    const more = problems.length - maxProblems;
    problems.splice(maxProblems, more, { file, line: problems[maxProblems]!.line, col: problems[maxProblems]!.col, path: '(document)', message: `and ${more} more problems` });
  }
  if (problems.length > 0) return { parsed, problems, notices: [] };
  const flat = flatDaemonKeys((data as Record<string, unknown>).defaults);
  const notices = flat.length === 0 ? [] : [locate({
    path: ['defaults'],
    at: 'key',
    message: `daemon options directly under defaults (${flat.join(', ')}) are the old form, still read; to update, indent them under a "daemon:" key of defaults`,
  })];
  return { parsed, problems, notices, inventory: toInventory(file, parsed.data as RawInventory, parsed.doc) };
}

interface RawGroup {
  settings_module?: string;
  python_path?: string[];
  python_home?: string;
  env?: Record<string, unknown> | null;
  settings?: Record<string, unknown> | null;
  daemon?: Record<string, unknown> | null;
}
interface RawInventory {
  isolation?: Isolation;
  site: {
    mount?: string;
    python_path?: string[];
    python_home?: string;
    settings_module: string;
    data_dir?: string;
    on_release?: 'archive' | 'delete' | 'keep';
    account_prefix?: string;
    account_ids?: { min: number; max: number };
    database?: 'sqlite';
    init?: string[][];
    static?: { url: string; dir: string; protected?: boolean };
    remote_user?: boolean;
  };
  apache: {
    conf_file: string;
    site_file?: string;
    wsgi_dir: string;
    user_file: string;
    realm?: string;
    pid_file?: string;
    ctl?: string[];
    restart_signal?: RestartSignal;
    map?: 'txt' | 'dbm';
    bcrypt_cost?: bigint | number;
    auth?: 'basic' | 'form';
    auth_path?: string;
    login_template?: string;
    session?: { max_age?: string; idle_update?: string };
    tls?: boolean;
  };
  defaults?: Record<string, unknown> | null;
  groups: Record<string, RawGroup | null>;
  users?: Record<string, string> | null;
}

/** Debian's defaults, for an inventory that names neither. */
const debianPidFile = '/run/apache2/apache2.pid';
const debianCtl = ['/usr/sbin/apache2ctl'];

/** Integers arrive as bigint (so large ones stay exact); options are small numbers or strings. */
function daemonOptions(raw: Record<string, unknown> | null | undefined): DaemonOptions {
  return Object.fromEntries(Object.entries(raw ?? {}).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : (v as string | number)]));
}

/** Only called on data that passed the schema and the rules. */
function toInventory(file: string, raw: RawInventory, doc: Document): Inventory {
  const dir = dirname(file);
  const abs = (p: string) => resolve(dir, p);
  const ctl = raw.apache.ctl ?? debianCtl;
  const isolation = raw.isolation ?? 'per-group';
  const dataDir = abs(raw.site.data_dir ?? 'data');
  const daemonDefaults = daemonDefaultsOf(raw.defaults);
  const sitePythonPath = (raw.site.python_path ?? []).map(abs);
  const defaultEnv = envAt(doc, 'defaults');
  const defaultSettings = settingsAt(doc, 'defaults');
  const pythonHomeOf = (group: RawGroup | null) => {
    const home = group?.python_home ?? group?.daemon?.['python-home'] ?? raw.site.python_home ?? daemonDefaults['python-home'];
    return typeof home === 'string' ? abs(home) : undefined;
  };
  return {
    file,
    dir,
    isolation,
    site: {
      mount: raw.site.mount ?? '/',
      pythonPath: sitePythonPath,
      settingsModule: raw.site.settings_module,
      dataDir,
      onRelease: raw.site.on_release ?? 'archive',
      ...optional('accountIds', raw.site.account_ids && { min: Number(raw.site.account_ids.min), max: Number(raw.site.account_ids.max) }),
      ...optional('database', raw.site.database),
      init: raw.site.init ?? [],
      ...optional('static', raw.site.static && { url: raw.site.static.url, dir: abs(raw.site.static.dir), protected: raw.site.static.protected ?? false }),
      remoteUser: raw.site.remote_user ?? false,
    },
    apache: {
      confFile: abs(raw.apache.conf_file),
      ...optional('siteFile', raw.apache.site_file !== undefined ? abs(raw.apache.site_file) : undefined),
      wsgiDir: abs(raw.apache.wsgi_dir),
      userFile: abs(raw.apache.user_file),
      realm: raw.apache.realm ?? 'plexctl',
      pidFile: abs(raw.apache.pid_file ?? debianPidFile),
      // Apache resolves a relative -f against its ServerRoot; plexctl, like everywhere else, against the inventory.
      ctl: ctl.map((arg, i) => (i > 0 && ctl[i - 1] === '-f' && !isAbsolute(arg) ? abs(arg) : arg)),
      restartSignal: raw.apache.restart_signal ?? 'SIGINT',
      map: raw.apache.map ?? 'txt',
      bcryptCost: Number(raw.apache.bcrypt_cost ?? 5),
      auth: raw.apache.auth ?? 'basic',
      authPath: raw.apache.auth_path ?? '/_plex/',
      ...(raw.apache.login_template !== undefined ? { loginTemplate: abs(raw.apache.login_template) } : {}),
      session: {
        maxAge: durationSeconds(raw.apache.session?.max_age ?? '8h'),
        idleUpdate: durationSeconds(raw.apache.session?.idle_update ?? '5m'),
      },
      tls: raw.apache.tls ?? false,
    },
    defaults: daemonOptions(daemonDefaults),
    groups: Object.entries(raw.groups).map(([name, group]) => ({
      name,
      env: mergeEntries(defaultEnv, envAt(doc, { group: name })),
      settings: mergeEntries(defaultSettings, settingsAt(doc, { group: name })),
      settingsModule: group?.settings_module ?? raw.site.settings_module,
      pythonPath: group?.python_path ? group.python_path.map(abs) : sitePythonPath,
      ...optional('pythonHome', pythonHomeOf(group)),
      daemon: daemonOptions(group?.daemon),
      ...optional('runAs', runAsOf(isolation, name, group?.daemon ?? undefined, daemonDefaults, raw.site.account_prefix)),
      dataDir: join(dataDir, name),
    })),
    users: usersOf(doc),
  };
}
