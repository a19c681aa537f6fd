/** What is running and on disk now, as far as reconcile cares. Read-only. */
import { stat } from 'node:fs/promises';
import type { Credentials } from '../credentials/credentials.js';
import type { DesiredFile } from '../model/files.js';
import { descriptorOf } from '../render/generated-files.js';
import type { ServerObservation, ServerState, WebServer } from '../server/web-server.js';

export interface GroupDaemons {
  pids: number[];
  /** When the oldest of them started (undefined when none runs). */
  oldestStart?: number;
}

export interface LiveState {
  server: ServerState;
  daemons: Map<string, GroupDaemons>;
  /** Daemons under the server's parent that name no inventory group. */
  stray: { group: string; pids: number[] }[];
  /** mtimeMs of the generated files that daemons or the server load at start, where they exist. */
  mtimes: Map<string, number>;
  /** Users that have a password. */
  passwordUsers: string[];
  /** Children of the server whose title and account disagree. */
  suspect?: ServerObservation['suspect'];
}

export async function readLiveState(desired: DesiredFile[], server: WebServer, credentials: Credentials): Promise<LiveState> {
  const observed = await server.observe();
  const daemons = new Map<string, GroupDaemons>();
  for (const [group, facts] of observed.daemons) {
    const starts = facts.flatMap((f) => (f.startedAtMs !== undefined ? [f.startedAtMs] : []));
    daemons.set(group, { pids: facts.map((f) => f.pid), ...(starts.length > 0 ? { oldestStart: Math.min(...starts) } : {}) });
  }
  const mtimes = new Map<string, number>();
  for (const file of desired.filter((f) => descriptorOf(f.kind).effect !== 'none')) {
    const info = await stat(file.path).catch(() => undefined);
    if (info) mtimes.set(file.path, info.mtimeMs);
  }
  return { server: observed.server, daemons, stray: observed.stray, suspect: observed.suspect, mtimes, passwordUsers: await credentials.list() };
}
