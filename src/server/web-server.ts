/**
 * The web server that runs the groups, behind one small interface: what runs (its parent and each
 * group's daemons), its configuration test and graceful reload, restarting groups, and the checks
 * `doctor` runs. The one implementation today is Apache + mod_wsgi (src/apache/apache-server.ts);
 * unit tests fake it. Nothing outside an implementation knows how its daemons are recognised.
 */
import type { Check } from '../doctor/check.js';

export type ServerState = { running: true; pid: number } | { running: false; reason: string };

/** One daemon of a group; facts are absent if it exited while being looked at. */
export interface DaemonFacts {
  pid: number;
  startedAtMs?: number;
  rssBytes?: number;
}

export interface ServerObservation {
  server: ServerState;
  /** Each inventory group's daemons, by group (empty lists when the server is not running). */
  daemons: Map<string, DaemonFacts[]>;
  /** Daemons under the server that name no group of the inventory. */
  stray: { group: string; pids: number[] }[];
  /** Children whose name and identity disagree (a tenant that retitled its process): reported, never acted on. */
  suspect: { pid: number; uid?: number; title: string; reason: string }[];
}

export interface ConfigResult {
  ok: boolean;
  output: string;
  /** The file and line the server rejected, when its output names them. */
  rejected?: { file: string; line: number };
  /** The configuration is valid but does not load the site's fragment (reloading it would serve without the site): how to fix that. */
  notLoaded?: { fragment: string; fix: string };
}

export interface GroupRestart {
  group: string;
  oldPids: number[];
  newPids: number[];
  /** Every old daemon was replaced and the new ones serve. */
  done: boolean;
  problem?: string;
}

export interface RestartReport {
  server: ServerState;
  groups: GroupRestart[];
}

export interface WebServer {
  observe(): Promise<ServerObservation>;
  /** Test the configuration, and that it loads the site's fragment (apache.conf_file); never signals. */
  configTest(): Promise<ConfigResult>;
  /** Reload the configuration without dropping connections; restarts every group. */
  gracefulReload(): Promise<ConfigResult>;
  /** After a reload begun at `sinceMs`: resolve once every group has fresh daemons that serve; throw after timeoutMs. */
  waitForAllGroups(sinceMs: number, timeoutMs: number): Promise<void>;
  /** The same for some groups: each has daemons started since `sinceMs` that serve. */
  waitForGroups(groups: string[], sinceMs: number, timeoutMs: number): Promise<void>;
  /** Restart exactly these groups' daemons and wait until each was replaced by ready ones. */
  restartGroups(groups: string[], options: { timeoutMs: number }): Promise<RestartReport>;
  doctorChecks(): Promise<Check[]>;
}
