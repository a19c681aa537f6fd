/**
 * Types shared by every layer that handles generated files: render produces DesiredFile, plan
 * compares them with ActualFiles into FileChange, apply carries FileChange out. No code here, so
 * plan and apply depend on this module and never on each other.
 */

/** Every kind of generated file; each has one descriptor in src/render/generated-files.ts. */
export type FileKind = 'apache-conf' | 'main-script' | 'group-script' | 'procmap' | 'procmap-dbm' | 'login-page' | 'session-key';

/**
 * What a change of a file does to the live server: `graceful` (the web server must reload its
 * configuration, which restarts every group), `restart-group` (the daemons of the file's group
 * must restart), `restart-every-group` (every group's daemons read it at start), `none` (read
 * again on the next request: the routing map).
 */
export type LiveEffect = 'graceful' | 'restart-group' | 'restart-every-group' | 'none';

export interface DesiredFile {
  path: string;
  kind: FileKind;
  /** For files of one group (group scripts): that group. */
  group?: string;
  content: string;
  /** For procmap-dbm (whose content is the sha256 of its source): the map text httxt2dbm builds it from. */
  dbmSource?: string;
}

export type FileAction = 'create' | 'update' | 'delete';

export interface FileChange {
  action: FileAction;
  path: string;
  kind: FileKind;
  group?: string;
  /** Content on disk now (undefined for create). */
  before?: string;
  /** Content after the change (undefined for delete, and for a secret that apply makes itself). */
  after?: string;
  /** procmap-dbm: the map text to build the DBM from. */
  dbmSource?: string;
}

/** Files on disk: content of each desired path (undefined if missing), and plexctl's own files no longer desired. */
export interface ActualFiles {
  contents: Map<string, string | undefined>;
  /** Files plexctl wrote earlier, found where it writes (group scripts, the DBM map), by path. */
  owned: Map<string, { kind: FileKind; group?: string; content: string }>;
}
