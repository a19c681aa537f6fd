/**
 * How a Django management command runs in one instance's context, as `plexctl manage` and
 * `site.init` run it: the group's account, its python (python-home), a clean environment, its
 * data directory as the working directory, and first the group's own generated settings script,
 * the very file its daemons import (so manage and mod_wsgi cannot disagree). Pure: this builds
 * the invocation; src/system/run-as-account.ts runs it.
 */
import { join } from 'node:path';
import type { Group, Inventory } from '../inventory/types.js';
import { generatedPaths } from '../render/files.js';
import { apacheUser } from '../apache/system-user.js';

/** The Python that mod_wsgi (Debian's libapache2-mod-wsgi-py3) is built against. */
export const systemPython = '/usr/bin/python3';

/**
 * Run by `python3 -I -c`: stands in for the mod_wsgi module (the settings script checks it names
 * its group), runs the group's settings script, applies plexctl's own overrides for this run
 * (collectstatic's destination), then hands the arguments to Django.
 */
export const bootstrap = `
import json, os, runpy, sys, types
spec = json.loads(sys.argv[1])
mod_wsgi = types.ModuleType('mod_wsgi')
mod_wsgi.process_group = spec['group']
mod_wsgi.application_group = ''
sys.modules['mod_wsgi'] = mod_wsgi
runpy.run_path(spec['script'], run_name='plexctl_settings')
settings = sys.modules[os.environ['DJANGO_SETTINGS_MODULE']]
for name, value in spec['override'].items():
    setattr(settings, name, value)
from django.core.management import execute_from_command_line
execute_from_command_line(['plexctl manage ' + spec['group']] + sys.argv[2:])
`;

export interface Invocation {
  group: string;
  python: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** The account it runs as, when plexctl runs as root. */
  account?: { user: string; group: string };
}

export interface InvocationOptions {
  /** Extra environment entries (`--env`). */
  env?: Record<string, string>;
  /** Settings set after the group's script, for this run only. */
  override?: Record<string, string>;
  asRoot: boolean;
}

export const pythonOf = (group: Group) => (group.pythonHome === undefined ? systemPython : join(group.pythonHome, 'bin', 'python3'));

export function managementInvocation(inventory: Inventory, group: Group, commandArgs: string[], options: InvocationOptions): Invocation {
  const spec = { group: group.name, script: generatedPaths(inventory).group(group.name), override: options.override ?? {} };
  return {
    group: group.name,
    python: pythonOf(group),
    // -I: no PYTHON* variables, no user site, not the working directory on sys.path (as in a daemon).
    args: ['-I', '-c', bootstrap, JSON.stringify(spec), ...commandArgs],
    env: {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      LANG: 'C.UTF-8',
      HOME: group.dataDir,
      ...options.env,
    },
    cwd: group.dataDir,
    ...(options.asRoot ? { account: group.runAs ?? { user: apacheUser, group: apacheUser } } : {}),
  };
}

/** "migrate --noinput", as a step line shows a command. */
export const commandText = (args: string[]) => args.map((a) => (/^[A-Za-z0-9_.,:=/@%+-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
