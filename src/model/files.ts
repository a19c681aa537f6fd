/**
 * Types shared by every layer that handles generated files: render produces DesiredFile, plan
 * compares them with ActualFiles into FileChange, apply carries FileChange out. No code here, so
 * plan and apply depend on this module and never on each other.
 */

/** Every kind of generated file; each has one descriptor in src/render/generated-files.ts. */
export type FileKind = 'apache-conf' | 'site-conf' | 'main-script' | 'group-script' | 'procmap' | 'procmap-dbm' | 'login-page' | 'session-key';

/**
 * What a change of a file does to the live server: `graceful` (the web server must reload its
 * configuration, which restarts every group), `restart-group` (the daemons of the file's group
 * must restart), `restart-every-group` (every group's daemons read it at start), `none` (read
 * again on the next request: the routing map).
 */
export type LiveEffect = 'graceful' | 'restart-group' | 'restart-every-group' | 'none';

/**
 * Who may read a generated file, besides root (its owner when plexctl runs as root): its mode and
 * the group that owns it, by name. Apply resolves the name; as non-root only the mode applies.
 */
export interface FileAccess {
  mode: number;
  group: string;
}

export interface DesiredFile {
  path: string;
  kind: FileKind;
  /** Absent: no mode or owner is enforced (unit tests' hand-made files). */
  access?: FileAccess;
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
  /** The mode and owner it must have (for create and update). */
  access?: FileAccess;
  /** Only the mode or owner is wrong; the content is right (an update that rewrites nothing). */
  accessOnly?: { mode: number; uid: number; gid: number };
}

/** Files on disk: content of each desired path (undefined if missing), and plexctl's own files no longer desired. */
export interface ActualFiles {
  contents: Map<string, string | undefined>;
  /** Mode and owner of each desired path that exists. */
  access?: Map<string, { mode: number; uid: number; gid: number }>;
  /** gid of each group name a desired file names, when plexctl can change owners (as root); undefined otherwise. */
  groupIds?: Map<string, number>;
  /** Files plexctl wrote earlier, found where it writes (group scripts, the DBM map), by path. */
  owned: Map<string, { kind: FileKind; group?: string; content: string }>;
}
