/** The validated inventory, with every path made absolute and every default filled in. */
import type { Isolation, RunAs } from './run-as.js';

export type { Isolation, RunAs } from './run-as.js';

/** A value of a Django setting, as YAML gives it and Python will read it back. */
export type SettingValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | SettingValue[]
  | Map<SettingValue, SettingValue>
  | { [key: string]: SettingValue };

/** WSGIDaemonProcess options, `name -> value`. */
export type DaemonOptions = Record<string, string | number>;

export interface Group {
  name: string;
  /** os.environ entries, in inventory order: `defaults.env`, then the group's own (which win). */
  env: [string, string][];
  /** Settings-module attributes: `defaults.settings`, then the group's own (a key's whole value wins). */
  settings: [string, SettingValue][];
  /** DJANGO_SETTINGS_MODULE: the group's own, else site.settings_module. */
  settingsModule: string;
  /** Directories put first on sys.path: the group's own python_path, else the site's. */
  pythonPath: string[];
  /** A virtualenv for this group's daemons (mod_wsgi's python-home), if any. */
  pythonHome?: string;
  /** This group's own options (merged over `defaults` when rendered). */
  daemon: DaemonOptions;
  /** The account its daemons run as; undefined: Apache's own user (only under `isolation: shared`). */
  runAs?: RunAs;
  /** Its private data directory, `<site.data_dir>/<group>`. */
  dataDir: string;
}

export interface UserMapping {
  user: string;
  group: string;
}

export type RestartSignal = 'SIGINT' | 'SIGTERM' | 'SIGUSR1';

export interface Inventory {
  /** Absolute path of the inventory file. */
  file: string;
  /** Its directory: relative paths are resolved against it. */
  dir: string;
  isolation: Isolation;
  site: {
    mount: string;
    pythonPath: string[];
    settingsModule: string;
    dataDir: string;
    onRelease: 'archive' | 'delete' | 'keep';
    /** The uid/gid range the groups' accounts are made in; undefined: the system range of /etc/login.defs. */
    accountIds?: { min: number; max: number };
    /** `sqlite`: each instance's DATABASES['default'] is `<its data dir>/db.sqlite3`. */
    database?: 'sqlite';
    /** Management commands (argv after manage.py) run, in order, on a new instance before it is routed to. */
    init: string[][];
    /** Static files Apache serves itself at `url` from `dir` (absolute). */
    static?: { url: string; dir: string; protected: boolean };
    /** Django's RemoteUserMiddleware and RemoteUserBackend in every instance: the Apache login is the Django login. */
    remoteUser: boolean;
  };
  apache: {
    confFile: string;
    /** The site's part of the configuration, to Include inside a <VirtualHost> (conf_file then holds only the server-wide part). */
    siteFile?: string;
    wsgiDir: string;
    userFile: string;
    realm: string;
    pidFile: string;
    ctl: string[];
    restartSignal: RestartSignal;
    map: 'txt' | 'dbm';
    bcryptCost: number;
    auth: 'basic' | 'form';
    /** `/_plex/`: the login page is `${authPath}login`. */
    authPath: string;
    /** Absolute path of the operator's login page template, if any. */
    loginTemplate?: string;
    /** Seconds. */
    session: { maxAge: number; idleUpdate: number };
    tls: boolean;
  };
  /** WSGIDaemonProcess options for every group (`defaults.daemon`, or the old flat form). */
  defaults: DaemonOptions;
  /** In inventory order. */
  groups: Group[];
  /** In inventory order. */
  users: UserMapping[];
}
