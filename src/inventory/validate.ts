/** YAML text -> a validated Inventory, or every problem found. Pure. */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Problem } from '../errors.js';
import { checkSchema, type SchemaIssue } from './check-schema.js';
import { formatKeyPath, positionOf } from './locate.js';
import { parseYaml, type ParsedYaml } from './parse.js';
import { rules } from './rules.js';
import { inventorySchema } from './schema.js';
import type { DaemonOptions, Inventory, RestartSignal, SettingValue } from './types.js';

export interface Validation {
  parsed: ParsedYaml;
  inventory?: Inventory;
  problems: Problem[];
}

export function validateInventoryText(file: string, text: string): Validation {
  const parsed = parseYaml(file, text);
  if (parsed.data === undefined) return { parsed, problems: parsed.problems };
  const schemaIssues = checkSchema(parsed.data, inventorySchema);
  // Rules tolerate data the schema refused, so every problem is reported in one run.
  const ruleIssues = rules.flatMap((rule) => rule(parsed.data as Record<string, unknown>));
  const locate = (issue: SchemaIssue): Problem => ({
    file,
    ...positionOf(parsed.doc, parsed.lines, issue.path, issue.at),
    path: formatKeyPath(issue.path),
    message: issue.message,
  });
  const problems = [...parsed.problems, ...schemaIssues.map(locate), ...ruleIssues.map(locate)];
  problems.sort((a, b) => a.line - b.line || a.col - b.col);
  if (problems.length > 0) return { parsed, problems };
  return { parsed, problems, inventory: toInventory(file, parsed.data as RawInventory) };
}

interface RawGroup {
  env?: Record<string, string | number> | null;
  settings?: Record<string, SettingValue> | null;
  daemon?: DaemonOptions | null;
}
interface RawInventory {
  site: { mount?: string; python_path?: string[]; settings_module: string };
  apache: {
    conf_file: string;
    wsgi_dir: string;
    user_file: string;
    realm?: string;
    pid_file?: string;
    ctl?: string[];
    restart_signal?: RestartSignal;
  };
  defaults?: DaemonOptions | null;
  groups: Record<string, RawGroup | null>;
  users?: Record<string, string> | null;
}

/** Debian's defaults, for an inventory that names neither. */
const debianPidFile = '/run/apache2/apache2.pid';
const debianCtl = ['/usr/sbin/apache2ctl'];

/** Only called on data that passed the schema and the rules. */
function toInventory(file: string, raw: RawInventory): Inventory {
  const dir = dirname(file);
  const abs = (p: string) => resolve(dir, p);
  const ctl = raw.apache.ctl ?? debianCtl;
  return {
    file,
    dir,
    site: {
      mount: raw.site.mount ?? '/',
      pythonPath: (raw.site.python_path ?? []).map(abs),
      settingsModule: raw.site.settings_module,
    },
    apache: {
      confFile: abs(raw.apache.conf_file),
      wsgiDir: abs(raw.apache.wsgi_dir),
      userFile: abs(raw.apache.user_file),
      realm: raw.apache.realm ?? 'plexctl',
      pidFile: abs(raw.apache.pid_file ?? debianPidFile),
      // Apache resolves a relative -f against its ServerRoot; plexctl, like everywhere else, against the inventory.
      ctl: ctl.map((arg, i) => (i > 0 && ctl[i - 1] === '-f' && !isAbsolute(arg) ? abs(arg) : arg)),
      restartSignal: raw.apache.restart_signal ?? 'SIGINT',
    },
    defaults: { ...(raw.defaults ?? {}) },
    groups: Object.entries(raw.groups).map(([name, group]) => ({
      name,
      env: Object.entries(group?.env ?? {}).map(([k, v]): [string, string] => [k, String(v)]),
      settings: Object.entries(group?.settings ?? {}),
      daemon: { ...(group?.daemon ?? {}) },
    })),
    users: Object.entries(raw.users ?? {}).map(([user, group]) => ({ user, group })),
  };
}
