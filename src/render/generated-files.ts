/**
 * Every kind of generated file, one descriptor each: where it lives, how its content is rendered,
 * when it is written, its mode, how plexctl recognises a leftover it owns, and what a change of
 * it does to the live server. Planning, applying, pruning, reconcile's restart decisions, status's
 * drift and the lifecycle's "map last" order all read this table; adding a kind of generated file
 * is one entry here plus its template. Pure.
 */
import { createHash } from 'node:crypto';
import type { Inventory } from '../inventory/types.js';
import type { DesiredFile, FileKind, LiveEffect } from '../model/files.js';
import { credentialsOf } from '../credentials/for-inventory.js';
import { apacheArg, apacheLiteral, apacheOption, apacheQuoted } from './escape-apache.js';
import { pyStr, pyValue } from './escape-python.js';
import { generatedPaths, loginFailedPageName, loginPageName, marker, procmapDbmSourceName, procmapName, type GeneratedPaths } from './files.js';
import { renderHtmlTemplate, renderTemplate } from './templates.js';
import { isPlexctlSessionKeyFile, isUsableSessionKeyFile } from './session-key.js';
import { apacheUser } from '../apache/system-user.js';

/** What every descriptor's render gets: the inventory's paths, its marker line, its groups with their merged daemon options. */
export interface RenderOptions {
  /** Groups whose instance is not ready (its site.init failed): their users are answered 503. */
  unready?: ReadonlySet<string>;
}

/** The map's value for a user whose group is not ready; the fragment answers it 503. */
export const unreadyRoute = '-UNREADY-';

export interface RenderContext {
  unready: ReadonlySet<string>;
  paths: GeneratedPaths;
  marker: string;
  groups: (Inventory['groups'][number] & { script: string; options: [string, string | number][] })[];
}

/** The owning group's name for a descriptor's readers. */
function readersGroup(readers: GeneratedFileKind['readers'], inventory: Inventory, group: string | undefined): string {
  if (readers === 'root') return 'root';
  if (readers === 'apache') return apacheUser;
  const runAs = inventory.groups.find((g) => g.name === group)?.runAs;
  // A group with no account of its own runs as Apache's user (isolation: shared).
  return runAs?.group ?? apacheUser;
}

export interface GeneratedFileKind {
  kind: FileKind;
  /** What it is, in messages ("its settings script changes"). */
  label: string;
  /** Ascending: nothing ever refers to a file not yet written (scripts, then the conf, then the map). Deletions come after every write. */
  writeOrder: number;
  effect: LiveEffect;
  /** Its mode, enforced on every run (drift is repaired). */
  mode: number;
  /**
   * The group that owns it (the owner is root): `root`, Apache's user's group (`apache`: read by
   * Apache's workers, never by a group's daemons), or the file's own instance's group (`instance`).
   */
  readers: 'root' | 'apache' | 'instance';
  /**
   * Apply writes `text` atomically, builds a DBM (`dbm`) from DesiredFile.dbmSource, or (`secret`)
   * keeps a usable file as it is and otherwise writes a fresh one it makes itself (the session key:
   * random, so not derivable from the inventory; its content is never shown).
   */
  writer: 'text' | 'dbm' | 'secret';
  /** For `secret`: whether the file on disk is usable as it is. */
  usable?(content: string): boolean;
  /** A rewrite always gets a new mtime (Apache re-reads a RewriteMap only when its mtime changes). */
  freshMtime: boolean;
  /** Where `render --out DIR` puts it: DIR itself, DIR/wsgi or DIR/login. */
  outSubdir: '' | 'wsgi' | 'login';
  render(inventory: Inventory, context: RenderContext): Omit<DesiredFile, 'access'>[];
  /**
   * A file of this kind that plexctl may delete when the inventory no longer wants it: its name in
   * wsgi_dir, and whether its content must start with plexctl's marker line.
   */
  owned?: { name: RegExp; groupOf?(name: string): string; requireMarker: boolean };
  /**
   * Where a file of this kind lies that plexctl wrote and deletes once the inventory no longer
   * renders it (the session key once `auth: form` is turned off: a secret left behind is a
   * secret to guard for nothing), and how to tell that the file there is plexctl's.
   */
  leftover?: {
    path(paths: GeneratedPaths): string;
    owns(content: string): boolean;
    /** Recognised only while the file of this kind beside it, on disk, carries this inventory's marker (so never another inventory's, nor in a directory plexctl never wrote). */
    beside: FileKind;
  };
}

/** Every path where a descriptor's leftover may lie for `inventory`, whether or not it renders that kind now. */
export function leftoverCandidates(inventory: Inventory): { path: string; kind: FileKind }[] {
  const paths = generatedPaths(inventory);
  return generatedFiles.flatMap((descriptor) => (descriptor.leftover ? [{ path: descriptor.leftover.path(paths), kind: descriptor.kind }] : []));
}

const helpers = {
  apache: apacheArg,
  option: apacheOption,
  quoted: apacheQuoted,
  literal: apacheLiteral,
  py: pyStr,
  pyValue,
  pyList: (items: string[]) => `[${items.map(pyStr).join(', ')}]`,
};

/** mod_auth_form's default field names, which the login page's form must use. */
export const loginFields = { username: 'httpd_username', password: 'httpd_password' } as const;

/** The session cookie's name (the session keys inside it are "<realm>-user" and "<realm>-pw"). */
export const sessionCookieName = 'plexsess';

/** What the fragment needs for auth: form (undefined for basic). */
function formLogin(inventory: Inventory) {
  if (inventory.apache.auth !== 'form') return undefined;
  const { authPath, session, tls } = inventory.apache;
  const mount = inventory.site.mount;
  return {
    cookie: sessionCookieName,
    tls,
    authPath,
    loginUrl: `${authPath}${loginPageName}`,
    failedUrl: `${authPath}${loginFailedPageName}`,
    logoutUrl: `${authPath}logout`,
    mount,
    maxAge: session.maxAge,
    idleUpdate: session.idleUpdate,
    fields: loginFields,
  };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Map keys are compared byte for byte; sort the same way so the output never depends on locale. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function renderProcmap(inventory: Inventory, unready: ReadonlySet<string> = new Set()): string {
  const users = [...inventory.users]
    .sort((a, b) => byteOrder(a.user, b.user))
    .map((u) => (unready.has(u.group) ? { user: u.user, group: unreadyRoute } : u));
  return renderTemplate('procmap.txt', { marker: marker(inventory), users });
}

/**
 * The Apache configuration: `all` in conf_file, or (with apache.site_file) the server-wide part
 * (the daemons) in conf_file and the site's part in site_file, for a <VirtualHost>.
 */
function renderFragment(inventory: Inventory, { paths, marker, groups }: RenderContext, part: 'all' | 'server' | 'site'): string {
  return renderTemplate('plex.conf', {
    ...helpers,
    part,
    marker,
    groups,
    files: paths,
    mount: inventory.site.mount,
    map: inventory.apache.map,
    wsgiDir: inventory.apache.wsgiDir,
    realm: inventory.apache.realm,
    credentials: credentialsOf(inventory).webServerConfig(),
    auth: inventory.apache.auth,
    form: formLogin(inventory),
    staticFiles: inventory.site.static,
    unreadyRoute,
  });
}

export const generatedFiles: readonly GeneratedFileKind[] = [
  {
    kind: 'apache-conf',
    label: 'Apache fragment',
    writeOrder: 2,
    effect: 'graceful',
    mode: 0o644,
    readers: 'root',
    writer: 'text',
    freshMtime: false,
    outSubdir: '',
    render: (inventory, context) => [
      { path: context.paths.conf, kind: 'apache-conf', content: renderFragment(inventory, context, inventory.apache.siteFile === undefined ? 'all' : 'server') },
    ],
  },
  {
    kind: 'site-conf',
    label: 'site configuration',
    writeOrder: 2,
    effect: 'graceful',
    mode: 0o644,
    readers: 'root',
    writer: 'text',
    freshMtime: false,
    outSubdir: '',
    render: (inventory, context) =>
      context.paths.site === undefined ? [] : [{ path: context.paths.site, kind: 'site-conf', content: renderFragment(inventory, context, 'site') }],
  },
  {
    kind: 'session-key',
    label: 'session key',
    // Before the fragment that Includes it.
    writeOrder: 0,
    effect: 'graceful',
    mode: 0o600,
    readers: 'root',
    writer: 'secret',
    usable: isUsableSessionKeyFile,
    freshMtime: false,
    outSubdir: '',
    render: (inventory, { paths }) => (inventory.apache.auth === 'form' ? [{ path: paths.sessionKey, kind: 'session-key', content: '' }] : []),
    leftover: { path: (paths) => paths.sessionKey, owns: isPlexctlSessionKeyFile, beside: 'apache-conf' },
  },
  {
    kind: 'login-page',
    label: 'login page',
    writeOrder: 0,
    // Apache serves it as a file: the next request sees the new one.
    effect: 'none',
    mode: 0o644,
    readers: 'root',
    writer: 'text',
    freshMtime: false,
    outSubdir: 'login',
    render: (inventory, { paths }) => {
      if (inventory.apache.auth !== 'form') return [];
      const page = (failed: boolean) =>
        renderHtmlTemplate(inventory.apache.loginTemplate, {
          realm: inventory.apache.realm,
          failed,
          usernameField: loginFields.username,
          passwordField: loginFields.password,
          mount: inventory.site.mount,
          authPath: inventory.apache.authPath,
        });
      return [
        { path: paths.loginPage, kind: 'login-page', content: page(false) },
        { path: paths.loginFailedPage, kind: 'login-page', content: page(true) },
      ];
    },
  },
  {
    kind: 'main-script',
    label: 'site script',
    writeOrder: 0,
    effect: 'restart-every-group',
    mode: 0o644,
    readers: 'root',
    writer: 'text',
    freshMtime: false,
    outSubdir: 'wsgi',
    render: (_inventory, { paths, marker }) => [{ path: paths.main, kind: 'main-script', content: renderTemplate('site.wsgi', { ...helpers, marker }) }],
  },
  {
    kind: 'group-script',
    label: 'settings script',
    writeOrder: 1,
    effect: 'restart-group',
    mode: 0o640,
    readers: 'instance',
    writer: 'text',
    freshMtime: false,
    outSubdir: 'wsgi',
    render: (inventory, { marker, groups }) =>
      groups.map((group) => ({
        path: group.script,
        kind: 'group-script',
        group: group.name,
        content: renderTemplate('group.wsgi', {
          ...helpers,
          marker,
          group,
          pythonPath: group.pythonPath,
          settingsModule: group.settingsModule,
          database: inventory.site.database,
          staticFiles: inventory.site.static,
          remoteUser: inventory.site.remoteUser,
        }),
      })),
    owned: {
      name: /^group-[A-Za-z][A-Za-z0-9_-]*\.wsgi$/,
      groupOf: (name) => name.slice('group-'.length, -'.wsgi'.length),
      requireMarker: true,
    },
  },
  {
    kind: 'procmap',
    label: 'user map',
    writeOrder: 3,
    effect: 'none',
    mode: 0o640,
    readers: 'apache',
    writer: 'text',
    freshMtime: true,
    outSubdir: 'wsgi',
    render: (inventory, { paths, unready }) => [{ path: paths.procmap, kind: 'procmap', content: renderProcmap(inventory, unready) }],
  },
  {
    kind: 'procmap-dbm',
    label: 'user map (DBM)',
    writeOrder: 4,
    effect: 'none',
    mode: 0o640,
    readers: 'apache',
    writer: 'dbm',
    freshMtime: true,
    outSubdir: 'wsgi',
    // Its path is the sha256 file beside the DBM (a DBM cannot be compared as text); the DBM is built from dbmSource.
    render: (inventory, { paths, unready }) => {
      if (inventory.apache.map !== 'dbm') return [];
      const procmap = renderProcmap(inventory, unready);
      return [{ path: paths.procmapDbmSource, kind: 'procmap-dbm', content: `${sha256(procmap)}  ${procmapName}\n`, dbmSource: procmap }];
    },
    // Left from `map: dbm` after a switch back to txt (its content is a hash line, not marked).
    owned: { name: new RegExp(`^${procmapDbmSourceName.replaceAll('.', '\\.')}$`), requireMarker: false },
  },
];

const byKind = new Map(generatedFiles.map((d) => [d.kind, d]));

export function descriptorOf(kind: FileKind): GeneratedFileKind {
  return byKind.get(kind)!;
}

/** Files whose change takes effect on the next request (the routing map): written last when adding, first when removing. */
export const isRoutingKind = (kind: FileKind) => descriptorOf(kind).effect === 'none';

/** The inventory's full set of generated files, in table order (planFiles sorts them into write order). */
export function renderFiles(inventory: Inventory, options: RenderOptions = {}): DesiredFile[] {
  const paths = generatedPaths(inventory);
  const context: RenderContext = {
    unready: options.unready ?? new Set(),
    paths,
    marker: marker(inventory),
    groups: inventory.groups.map((group) => ({
      ...group,
      script: paths.group(group.name),
      // home=: the daemons start in their private data directory (mod_wsgi would chdir to the
      // account's home, which a system account does not have).
      options: Object.entries({
        home: group.dataDir,
        ...inventory.defaults,
        ...group.daemon,
        ...(group.pythonHome !== undefined ? { 'python-home': group.pythonHome } : {}),
        ...(group.runAs ? { user: group.runAs.user, group: group.runAs.group } : {}),
      }).sort(([a], [b]) => byteOrder(a, b)),
    })),
  };
  return generatedFiles.flatMap((d) =>
    d.render(inventory, context).map((file) => ({ ...file, access: { mode: d.mode, group: readersGroup(d.readers, inventory, file.group) } })),
  );
}
