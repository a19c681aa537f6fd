/** Text of a lifecycle report and of a restart. Pure. */
import type { SkipReason, StepResult } from '../lifecycle/steps.js';
import type { RestartReport } from '../server/web-server.js';
import { eventsText } from './words.js';

const marks: Record<Exclude<StepResult['status'], 'skipped'>, string> = { done: 'done', failed: 'FAILED', 'not done': 'NOT DONE' };

/** What a step that did nothing says, by why. */
const skipped: Record<SkipReason, string> = {
  'no-change': 'no change',
  'not-needed': 'not needed',
  'no-password': 'not set (no --password-stdin; `plexctl user passwd NAME --password-stdin` sets it)',
  'password-kept': 'already set, kept',
  'not-running': 'not signalled',
};

function stepLine(s: StepResult): string {
  if (s.status === 'skipped') {
    const reason = s.events?.find((e) => e.kind === 'not-signalled');
    const why = reason?.kind === 'not-signalled' ? `: Apache is not running (${reason.reason})` : '';
    return `${skipped[s.reason ?? 'no-change']}${why}`;
  }
  const detail = s.error ?? (s.events && s.events.length > 0 ? eventsText(s.events) : undefined);
  return `${marks[s.status]}${detail ? `: ${detail}` : ''}`;
}

export function formatSteps(steps: StepResult[]): string {
  return steps.map((s) => `  ${s.name.padEnd(9)} ${stepLine(s)}\n`).join('');
}

export function formatRestart(report: RestartReport): string {
  if (!report.server.running) return `Apache is not running (${report.server.reason}): no process was signalled.\n`;
  return report.groups
    .map((g) =>
      g.done
        ? `${g.group}: restarted, pid ${g.oldPids.join(',') || '(none)'} -> ${g.newPids.join(',')}\n`
        : `${g.group}: NOT restarted: ${g.problem}\n`,
    )
    .join('');
}
