/**
 * `plexctl status`: what runs, per group, against what the inventory says. Pure: the command
 * (src/commands/status.ts) gathers processes, /proc facts, file mtimes and the file plan, and
 * this module turns them into a report and its text.
 */
import { ok, warn, type Check } from '../doctor/check.js';
import type { FileChange } from '../model/files.js';
import { formatFileChange } from '../plan/format.js';
import { clockToleranceMs } from '../poll.js';
import { descriptorOf } from '../render/generated-files.js';
import type { DaemonFacts, ServerState } from '../server/web-server.js';

export type { DaemonFacts } from '../server/web-server.js';

export type GroupState = 'running' | 'not running' | 'stale';

/** A script a daemon runs at start; mtimeMs is absent when the file does not exist. */
export interface ScriptTime {
  path: string;
  mtimeMs?: number;
}

export interface StatusInput {
  inventoryFile: string;
  pidFile: string;
  apache: ServerState;
  /** Group names in inventory order. */
  groups: string[];
  users: { user: string; group: string }[];
  /** Data directories of released groups, kept under <data_dir>/.released/ (site.on_release: archive). */
  released?: string[];
  /** Children of the server whose title and account disagree (a tenant that retitled its process). */
  suspect?: { pid: number; uid?: number; title: string; reason: string }[];
  /** The daemons of each group (none when Apache is not running). */
  daemons: Map<string, DaemonFacts[]>;
  /** site.wsgi, which every group imports. */
  mainScript: ScriptTime;
  /** group-NAME.wsgi of each group. */
  groupScripts: Map<string, ScriptTime>;
  /** The file plan (desiredAgainstDisk), or why it could not be made. */
  drift: FileChange[] | { error: string };
  nowMs: number;
  /** Groups that have had a tenant since their last release (in-use marks). */
  inUse?: ReadonlySet<string>;
  /** Groups whose instance ran site.init; undefined when the inventory has no init. */
  initialised?: ReadonlySet<string>;
  /** Why the marks could not be read (not root): every instance is `unknown`. */
  marksUnreadable?: string;
}

/**
 * What a group's instance is to the next `user add`: `in use` (it has users), `ready` (no user,
 * served nobody since its release, initialised: an add restarts nothing), `releasing` (no user,
 * but a release not finished: the next reconcile or add finishes it), `not initialised` (its
 * site.init has not run, or failed).
 */
export type InstanceState = 'in use' | 'ready' | 'releasing' | 'not initialised' | 'unknown';

export function instanceState(group: string, users: number, marks: Pick<StatusInput, 'inUse' | 'initialised' | 'marksUnreadable'>): InstanceState {
  if (marks.marksUnreadable !== undefined) return 'unknown';
  if (marks.initialised !== undefined && !marks.initialised.has(group)) return 'not initialised';
  if (users > 0) return 'in use';
  return marks.inUse?.has(group) ? 'releasing' : 'ready';
}

/** `doctor`'s view of the pool: warn when the next `user add` without --group finds no ready group. */
export function readyPoolCheck(groups: string[], usersOf: (group: string) => number, marks: Pick<StatusInput, 'inUse' | 'initialised' | 'marksUnreadable'>): Check {
  if (marks.marksUnreadable !== undefined) return ok('ready pool', `not checked: ${marks.marksUnreadable}`);
  const states = groups.map((g) => instanceState(g, usersOf(g), marks));
  const ready = states.filter((s) => s === 'ready').length;
  if (ready > 0) return ok('ready pool', `${ready} of ${groups.length} groups ready for new users (a user add into one restarts nothing)`);
  const empty = groups.filter((g) => usersOf(g) === 0).length;
  return warn(
    'ready pool',
    empty > 0 ? `no group is ready for a new user: ${empty} empty group${empty === 1 ? ' is' : 's are'} still being prepared (released, or site.init not run)`
      : `no group is ready for a new user: all ${groups.length} have users, so the next \`user add\` without --group fails`,
    empty > 0 ? 'run plexctl reconcile (it finishes releases and runs site.init); plexctl status shows each group\'s INSTANCE'
      : 'add groups to the inventory\'s groups:, then plexctl reconcile',
  );
}

/** The status line that says how many groups a `user add` without --group can take at once. */
function readyLine(groups: GroupStatus[]): string {
  if (groups.some((g) => g.instance === 'unknown')) return 'Ready for new users: unknown (the marks of each instance are root\'s: run status as root)\n';
  const ready = groups.filter((g) => g.instance === 'ready').length;
  if (ready > 0) return `Ready for new users: ${ready} group${ready === 1 ? '' : 's'}\n`;
  const empty = groups.filter((g) => g.users.length === 0).length;
  if (empty > 0) return `Ready for new users: none; ${empty} empty group${empty === 1 ? ' is' : 's are'} still being prepared: \`plexctl reconcile\` finishes them\n`;
  return 'Ready for new users: none: the next `user add` without --group fails; add groups to the inventory, then `plexctl reconcile`\n';
}

export interface StaleDaemon {
  pid: number;
  startedAt: string;
  script: string;
  changedAt: string;
}

export interface GroupStatus {
  group: string;
  state: GroupState;
  instance: InstanceState;
  users: string[];
  pids: number[];
  /** When the oldest daemon started (ISO 8601), null when none runs. */
  startedAt: string | null;
  /** Seconds since the oldest daemon started, null when none runs. */
  uptimeSeconds: number | null;
  /** Resident memory summed over the group's daemons, null when none runs. */
  rssBytes: number | null;
  /** Why the group is stale: each daemon that started before a script it ran changed. */
  stale: StaleDaemon[];
}

export interface StatusReport {
  inventory: string;
  apache: { running: true; pid: number; pidFile: string } | { running: false; reason: string; pidFile: string };
  groups: GroupStatus[];
  /** Children of the server whose title and account disagree: reported, never acted on. */
  suspect: { pid: number; uid: number | null; title: string; reason: string }[];
  released: string[];
  drift: {
    /** null when the files could not be compared (see error). */
    inSync: boolean | null;
    files: { action: FileChange['action']; path: string; kind: FileChange['kind']; group: string | null }[];
    error: string | null;
  };
}

/** A script changed after the daemon started (beyond the measuring error). */
export function isStale(scriptMtimeMs: number, startedAtMs: number): boolean {
  return scriptMtimeMs > startedAtMs + clockToleranceMs;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function buildStatus(input: StatusInput): StatusReport {
  const usersOf = new Map<string, string[]>(input.groups.map((g) => [g, []]));
  for (const { user, group } of input.users) usersOf.get(group)?.push(user);
  const groups = input.groups.map((group): GroupStatus => {
    const daemons = input.apache.running ? (input.daemons.get(group) ?? []) : [];
    const users = usersOf.get(group) ?? [];
    const instance = instanceState(group, users.length, input);
    if (daemons.length === 0) {
      return { group, state: 'not running', instance, users, pids: [], startedAt: null, uptimeSeconds: null, rssBytes: null, stale: [] };
    }
    const scripts = [input.groupScripts.get(group), input.mainScript].filter((s): s is ScriptTime => s !== undefined);
    const stale: StaleDaemon[] = [];
    for (const daemon of daemons) {
      if (daemon.startedAtMs === undefined) continue;
      for (const script of scripts) {
        if (script.mtimeMs !== undefined && isStale(script.mtimeMs, daemon.startedAtMs)) {
          stale.push({ pid: daemon.pid, startedAt: iso(daemon.startedAtMs), script: script.path, changedAt: iso(script.mtimeMs) });
        }
      }
    }
    const starts = daemons.flatMap((d) => (d.startedAtMs === undefined ? [] : [d.startedAtMs]));
    const oldest = starts.length > 0 ? Math.min(...starts) : undefined;
    return {
      group,
      state: stale.length > 0 ? 'stale' : 'running',
      instance,
      users,
      pids: daemons.map((d) => d.pid).sort((a, b) => a - b),
      startedAt: oldest === undefined ? null : iso(oldest),
      uptimeSeconds: oldest === undefined ? null : Math.max(0, Math.floor((input.nowMs - oldest) / 1000)),
      rssBytes: daemons.reduce((sum, d) => sum + (d.rssBytes ?? 0), 0),
      stale,
    };
  });
  const drift: StatusReport['drift'] = Array.isArray(input.drift)
    ? {
        inSync: input.drift.length === 0,
        files: input.drift.map((c) => ({ action: c.action, path: c.path, kind: c.kind, group: c.group ?? null })),
        error: null,
      }
    : { inSync: null, files: [], error: input.drift.error };
  return {
    inventory: input.inventoryFile,
    apache: input.apache.running
      ? { running: true, pid: input.apache.pid, pidFile: input.pidFile }
      : { running: false, reason: input.apache.reason, pidFile: input.pidFile },
    groups,
    released: input.released ?? [],
    suspect: (input.suspect ?? []).map((p) => ({ pid: p.pid, uid: p.uid ?? null, title: p.title, reason: p.reason })),
    drift,
  };
}

/** 45s, 2m05s, 3h04m, 2d03h. */
export function formatUptime(seconds: number): string {
  const two = (n: number) => String(n).padStart(2, '0');
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${two(seconds % 60)}s`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h${two(Math.floor(seconds / 60) % 60)}m`;
  return `${Math.floor(seconds / 86400)}d${two(Math.floor(seconds / 3600) % 24)}h`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  return `${(bytes / (1024 * 1024 * 1024)).toFixed(2)} GiB`;
}

/** At most `max` names, then how many more: a group may hold thousands of users. */
function userList(users: string[], max = 3): string {
  if (users.length === 0) return '(none)';
  const shown = users.slice(0, max).join(', ');
  return users.length > max ? `${shown} (+${users.length - max} more)` : shown;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd() + '\n').join('');
}

export function formatStatus(report: StatusReport): string {
  const out: string[] = [];
  out.push(
    report.apache.running
      ? `Apache: running, parent pid ${report.apache.pid} (${report.apache.pidFile})\n`
      : `Apache: not running: ${report.apache.reason}\n`,
  );
  out.push(
    table([
      ['GROUP', 'STATE', 'INSTANCE', 'PIDS', 'UPTIME', 'MEMORY', 'USERS'],
      ...report.groups.map((g) => [
        g.group,
        g.state,
        g.instance,
        g.pids.length > 0 ? g.pids.join(',') : '-',
        g.uptimeSeconds === null ? '-' : formatUptime(g.uptimeSeconds),
        g.rssBytes === null ? '-' : formatBytes(g.rssBytes),
        userList(g.users),
      ]),
    ]),
  );
  out.push(readyLine(report.groups));
  const stale = report.groups.filter((g) => g.state === 'stale');
  for (const g of stale) {
    const scripts = [...new Set(g.stale.map((s) => s.script))];
    const pids = [...new Set(g.stale.map((s) => s.pid))];
    out.push(`stale: ${g.group}: daemon${pids.length === 1 ? '' : 's'} ${pids.join(',')} started before ${scripts.join(' and ')} last changed\n`);
  }
  // A group whose scripts on disk differ from the inventory's would restart onto the wrong ones.
  const differs = (group: string) =>
    report.drift.files.some((f) => (f.group === group && descriptorOf(f.kind).effect === 'restart-group') || descriptorOf(f.kind).effect === 'restart-every-group');
  const restartable = stale.filter((g) => !differs(g.group));
  const toReconcile = stale.filter((g) => differs(g.group));
  if (restartable.length > 0) out.push(`  \`plexctl restart ${restartable.map((g) => g.group).join(' ')}\` starts them with the current scripts\n`);
  if (toReconcile.length > 0) {
    out.push(`  \`plexctl reconcile\` writes the scripts the inventory renders for ${toReconcile.map((g) => g.group).join(', ')} and restarts them (their scripts on disk differ from it)\n`);
  }
  if (report.released.length > 0) {
    out.push(`Released data (archived when a group lost its last user; restore: see README "Releasing a group"):\n`);
    for (const path of report.released) out.push(`  ${path}\n`);
  }
  for (const p of report.suspect) out.push(`suspect: pid ${p.pid}${p.uid !== null ? ` (uid ${p.uid})` : ''} ${p.reason}; plexctl does not act on it\n`);
  if (report.drift.error !== null) {
    out.push(`Files: could not compare with the inventory: ${report.drift.error}\n`);
  } else if (report.drift.inSync) {
    out.push('Files: every managed file matches the inventory\n');
  } else {
    const n = report.drift.files.length;
    out.push(`Files: ${n} managed file${n === 1 ? ' differs' : 's differ'} from the inventory (\`plexctl plan --diff\` shows how, \`plexctl reconcile\` writes them and restarts what loads them):\n`);
    for (const f of report.drift.files) {
      out.push(`  ${formatFileChange({ action: f.action, path: f.path, kind: f.kind, ...(f.group !== null ? { group: f.group } : {}) })}\n`);
    }
  }
  return out.join('');
}
