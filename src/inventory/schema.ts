/**
 * The inventory's JSON Schema: the single source of its structure. `plexctl schema` prints it
 * for editors, and `validate-schema.ts` interprets the same object, so the two cannot drift.
 * `errorMessage` (the ajv-errors convention) carries the message shown when a pattern fails.
 * Rules that a schema cannot say (a user's group exists, process titles do not collide) live in
 * `rules.ts`.
 */
import { daemonOptionTypes } from './daemon-options.js';
import { groupNameRuleText, maxGroupNameLength, maxUserNameLength, userFileDescription, userNameRuleText } from '../apache/name-limits.js';

export interface Schema {
  $schema?: string;
  $id?: string;
  title?: string;
  description?: string;
  type?: JsonType | JsonType[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  propertyNames?: Schema;
  required?: string[];
  minProperties?: number;
  items?: Schema;
  minItems?: number;
  enum?: readonly (string | number)[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  errorMessage?: string;
  default?: unknown;
  examples?: unknown[];
}
export type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

/** Text that ends up inside an Apache directive: no quotes, backslashes, control characters or variable syntax. */
const apacheText: Schema = {
  type: 'string',
  minLength: 1,
  pattern: '^(?!.*\\$\\{)(?!.*%\\{)[^"\\\\\\u0000-\\u001f\\u007f]*$',
  errorMessage:
    'must not contain a double quote, a backslash, a control character, "${" or "%{" (Apache would read them as syntax)',
};
const path = (description: string): Schema => ({ ...apacheText, description });
const plainText: Schema = {
  type: 'string',
  minLength: 1,
  pattern: '^[^\\u0000-\\u001f\\u007f]*$',
  errorMessage: 'must not contain control characters',
};

export { maxGroupNameLength, maxUserNameLength };

/** A duration such as 30s, 5m, 8h or 1d. */
const duration: Schema = {
  type: 'string',
  pattern: '^[0-9]{1,7}[smhd]$',
  errorMessage: 'must be a duration like "30s", "5m", "8h" or "1d"',
};

const groupName: Schema = {
  type: 'string',
  pattern: '^[A-Za-z][A-Za-z0-9_-]*$',
  maxLength: maxGroupNameLength,
  errorMessage: groupNameRuleText,
};
const userName: Schema = {
  type: 'string',
  pattern: '^(?!#)[^\\s:\\u0000-\\u001f\\u007f-\\u009f]+$',
  maxLength: maxUserNameLength,
  errorMessage: userNameRuleText,
};

const daemonOptions: Schema = {
  type: ['object', 'null'],
  description: 'WSGIDaemonProcess options (mod_wsgi 4.9). display-name is always %{GROUP}, set by plexctl.',
  additionalProperties: false,
  properties: Object.fromEntries(
    Object.entries(daemonOptionTypes).map(([name, type]) => [
      name,
      type === 'integer' ? { type: 'integer', minimum: 0 } : { ...apacheText },
    ]),
  ),
};

const settingsModule: Schema = {
  type: 'string',
  description: 'DJANGO_SETTINGS_MODULE',
  pattern: '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$',
  errorMessage: 'must be a dotted Python module name like "mysite.settings"',
};
const pythonPath: Schema = {
  type: 'array',
  items: plainText,
  description: 'directories put on sys.path (relative to the inventory)',
};
const pythonHome: Schema = {
  ...apacheText,
  description: 'a virtualenv the daemons run in (mod_wsgi\'s python-home; made with the python3 mod_wsgi is built for), also used by plexctl manage',
};

/** os.environ entries and settings-module attributes: for one group, or (under defaults) for all. */
const valueMaps = (whose: string): Record<string, Schema> => ({
  env: {
    type: ['object', 'null'],
    description: `os.environ entries set ${whose} before the site loads`,
    propertyNames: {
      type: 'string',
      pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
      errorMessage: 'an environment variable name has only letters, digits and "_", and does not start with a digit',
    },
    additionalProperties: {
      type: ['string', 'number'],
      pattern: '^[^\\u0000]*$',
      errorMessage: 'an environment value cannot contain a NUL character (the OS cannot carry it)',
    },
  },
  settings: {
    type: ['object', 'null'],
    description: `attributes set on the Django settings module ${whose}`,
    propertyNames: {
      type: 'string',
      pattern: '^[A-Z][A-Z0-9_]*$',
      errorMessage: 'Django only reads UPPER_CASE settings',
    },
  },
});

const groupSchema: Schema = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    settings_module: { ...settingsModule, description: 'this group\'s DJANGO_SETTINGS_MODULE (another Django project behind the same URL); default site.settings_module' },
    python_path: { ...pythonPath, description: 'this group\'s sys.path directories, instead of site.python_path (relative to the inventory)' },
    python_home: pythonHome,
    ...valueMaps('in this group (over defaults.env / defaults.settings)'),
    daemon: daemonOptions,
  },
};

export const inventorySchema: Schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://plexctl.invalid/schema/inventory.json',
  title: 'plexctl inventory (plex.yaml)',
  type: 'object',
  additionalProperties: false,
  required: ['site', 'apache', 'groups'],
  properties: {
    isolation: {
      enum: ['per-group', 'shared'],
      default: 'per-group',
      description:
        'per-group: each group\'s daemons run as their own system user (default plex-GROUP, created by plexctl); shared: groups may share an account, even Apache\'s (NOT isolated: status and doctor warn)',
    },
    site: {
      type: 'object',
      additionalProperties: false,
      required: ['settings_module'],
      properties: {
        mount: {
          type: 'string',
          default: '/',
          description: 'URL path the site is served at (WSGIScriptAlias)',
          pattern: '^/([A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*)?$',
          errorMessage: 'must be "/" or a path like "/app" (letters, digits, "._~-"; no trailing slash)',
        },
        python_path: { ...pythonPath, default: [], description: 'directories put on sys.path in every group (relative to the inventory)' },
        data_dir: path('each group gets DATA_DIR/GROUP/, owned by its user, mode 0700 (PLEXCTL_DATA_DIR); default data'),
        account_prefix: {
          type: 'string',
          default: 'plex-',
          pattern: '^[a-z_][a-z0-9_-]{0,20}$',
          errorMessage: 'must be the start of a system user name: lower-case letters, digits, "_" and "-", at most 21 characters',
          description: 'per-group isolation: a group without daemon.user runs as PREFIX + its name (lower case); give each inventory on a machine its own',
        },
        account_ids: {
          type: 'object',
          additionalProperties: false,
          required: ['min', 'max'],
          description: 'per-group isolation: the uid and gid range the groups\' accounts are made in (useradd --system picks from it); default the system range of /etc/login.defs (Debian: 100-999, fewer than a thousand groups)',
          properties: {
            min: { type: 'integer', minimum: 100, maximum: 4294967294, description: 'the lowest uid and gid' },
            max: { type: 'integer', minimum: 100, maximum: 4294967294, description: 'the highest uid and gid' },
          },
        },
        on_release: {
          enum: ['archive', 'delete', 'keep'],
          default: 'archive',
          description: 'when a group loses its last user: its data directory is moved to DATA_DIR/.released/ (archive), deleted, or kept for the next tenant (keep: NOT a fresh instance)',
        },
        settings_module: settingsModule,
        python_home: { ...pythonHome, description: 'a virtualenv every group runs in unless it names its own (mod_wsgi\'s python-home)' },
        database: {
          enum: ['sqlite'],
          description: 'sqlite: every instance\'s DATABASES["default"] is a SQLite file in its data directory (DATA_DIR/GROUP/db.sqlite3), with no edit to settings.py',
        },
        init: {
          type: 'array',
          description: 'management commands run, as `plexctl manage` runs them, on a new instance (never served, or just released) before any user is routed to it, e.g. [[migrate, --noinput]]',
          items: { type: 'array', minItems: 1, items: { ...plainText, pattern: '^[^\\u0000-\\u001f\\u007f]+$' } },
        },
        static: {
          type: 'object',
          additionalProperties: false,
          required: ['url', 'dir'],
          description: 'static files (collectstatic\'s STATIC_ROOT) that Apache serves itself, never through a daemon',
          properties: {
            url: {
              type: 'string',
              pattern: '^/([A-Za-z0-9._~-]+/)+$',
              errorMessage: 'must be a URL path like "/static/": starts and ends with "/", letters, digits and "._~-" between',
              description: 'STATIC_URL, where Apache serves dir',
            },
            dir: path('STATIC_ROOT: `plexctl collectstatic` fills it (relative to the inventory)'),
            protected: { type: 'boolean', default: false, description: 'true: only logged-in users get the files (default: public, as static files usually are)' },
          },
        },
        remote_user: {
          type: 'boolean',
          default: false,
          description: 'add Django\'s RemoteUserMiddleware and RemoteUserBackend to every instance: the Apache login is the Django login (the user is created in that instance\'s database on first request)',
        },
      },
    },
    apache: {
      type: 'object',
      additionalProperties: false,
      required: ['conf_file', 'wsgi_dir', 'user_file'],
      properties: {
        conf_file: {
          ...path('the generated Apache fragment, to Include at server level (or a2enconf)'),
          pattern: '^(?!.*\\$\\{)(?!.*%\\{)[^"\\\\*?\\[\\]\\u0000-\\u001f\\u007f]*$',
          errorMessage:
            'must not contain a double quote, a backslash, "*", "?", "[", "]", a control character, "${" or "%{" (it is Included, where *?[] are wildcards)',
        },
        site_file: {
          ...path('optional: the site\'s part of the configuration (the map, the login page, static files, WSGIScriptAlias and its <Directory>), to Include inside your <VirtualHost>; conf_file then keeps only the server-wide part (the daemons)'),
          pattern: '^(?!.*\\$\\{)(?!.*%\\{)[^"\\\\*?\\[\\]\\u0000-\\u001f\\u007f]*$',
          errorMessage:
            'must not contain a double quote, a backslash, "*", "?", "[", "]", a control character, "${" or "%{" (it is Included, where *?[] are wildcards)',
        },
        wsgi_dir: {
          ...path('where the generated WSGI scripts and procmap.txt live'),
          pattern: '^(?!.*\\$\\{)(?!.*%\\{)[^"\\\\*?\\[\\]\\u0000-\\u001f\\u007f]*$',
          errorMessage:
            'must not contain a double quote, a backslash, "*", "?", "[", "]", a control character, "${" or "%{" (it is the path of a <Directory> section, where *?[] are wildcards)',
        },
        user_file: path(userFileDescription),
        realm: {
          ...apacheText,
          pattern: '^[^"\\\\$%\\u0000-\\u001f\\u007f]*$',
          errorMessage: 'must not contain a double quote, a backslash, "$", "%" or a control character (AuthName is an Apache expression)',
          default: 'plexctl',
          description: 'the site\'s name: the Basic auth realm, or the title of the login page (AuthName)',
        },
        pid_file: path('the Apache parent\'s pid file (default /run/apache2/apache2.pid)'),
        ctl: {
          type: 'array',
          minItems: 1,
          items: plainText,
          description:
            'how to run Apache: plexctl runs CTL -t and CTL -k graceful. A path after -f is resolved against the inventory\'s directory.',
          default: ['/usr/sbin/apache2ctl'],
        },
        restart_signal: {
          enum: ['SIGINT', 'SIGTERM', 'SIGUSR1'],
          default: 'SIGINT',
          description: 'signal that restarts one group\'s daemons (SIGUSR1: graceful eviction)',
        },
        bcrypt_cost: {
          type: 'integer',
          minimum: 4,
          maximum: 17,
          default: 5,
          description: 'bcrypt cost (work factor, 4-17) of new passwords; Basic auth checks the hash on every request, so each step up doubles that cost',
        },
        auth: {
          enum: ['basic', 'form'],
          default: 'basic',
          description: 'how users log in: HTTP Basic auth, or a login page with an encrypted session cookie (mod_auth_form)',
        },
        auth_path: {
          type: 'string',
          default: '/_plex/',
          description: 'URL path of the login page (PREFIXlogin) and of logging out (PREFIXlogout), with auth: form',
          pattern: '^/([A-Za-z0-9._-]+/)+$',
          errorMessage: 'must be a path like "/_plex/": starts and ends with "/", letters, digits and "._-" between',
        },
        login_template: {
          ...plainText,
          description: 'an ejs file to render the login page from, instead of plexctl\'s (relative to the inventory); see the README',
        },
        session: {
          type: 'object',
          additionalProperties: false,
          description: 'the login session, with auth: form',
          properties: {
            max_age: { ...duration, default: '8h', description: 'a session ends this long after the last request that renewed it (SessionMaxAge)' },
            idle_update: { ...duration, default: '5m', description: 'how often a request renews the session\'s expiry (SessionExpiryUpdateInterval)' },
          },
        },
        tls: {
          type: 'boolean',
          default: false,
          description: 'the site is served over HTTPS: the session cookie is marked Secure (browsers then send it over HTTPS only)',
        },
        map: {
          enum: ['txt', 'dbm'],
          default: 'txt',
          description: 'RewriteMap type: txt (procmap.txt, scanned line by line after each change) or dbm (procmap.dbm built with httxt2dbm, indexed; for many users)',
        },
      },
    },
    defaults: {
      type: ['object', 'null'],
      additionalProperties: false,
      description: 'what every group gets unless it says otherwise: daemon (WSGIDaemonProcess options), env and settings. The old form, daemon options directly here, is still read.',
      properties: {
        daemon: { ...daemonOptions, description: 'WSGIDaemonProcess options for every group (a group\'s daemon: overrides them one by one)' },
        ...valueMaps('in every group'),
        ...daemonOptions.properties,
      },
    },
    groups: {
      type: 'object',
      minProperties: 1,
      description: 'the pool of daemon process groups, in order',
      propertyNames: groupName,
      additionalProperties: groupSchema,
    },
    users: {
      type: ['object', 'null'],
      description: 'user -> group; several users may share a group',
      propertyNames: userName,
      additionalProperties: groupName,
    },
  },
};
