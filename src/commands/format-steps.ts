/** Text of a lifecycle report and of a restart. Pure. */
import type { StepResult } from '../lifecycle/steps.js';
import type { RestartReport } from '../server/web-server.js';
import { eventsText } from './words.js';

const marks: Record<StepResult['status'], string> = { done: 'done', skipped: 'no change', failed: 'FAILED', 'not done': 'NOT DONE' };

export function formatSteps(steps: StepResult[]): string {
  return steps
    .map((s) => {
      const detail = s.error ?? (s.events && s.events.length > 0 ? eventsText(s.events) : undefined);
      return `  ${s.name.padEnd(9)} ${marks[s.status]}${detail ? `: ${detail}` : ''}\n`;
    })
    .join('');
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
