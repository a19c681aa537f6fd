/** Text of a lifecycle report. Pure. */
import type { RestartReport } from './restart.js';
import type { StepResult } from './steps.js';

const marks: Record<StepResult['status'], string> = { done: 'done', skipped: 'no change', failed: 'FAILED', 'not done': 'NOT DONE' };

export function formatSteps(steps: StepResult[]): string {
  return steps.map((s) => `  ${s.name.padEnd(9)} ${marks[s.status]}${s.detail ? `: ${s.detail}` : ''}\n`).join('');
}

export function formatRestart(report: RestartReport): string {
  if (!report.apache.running) return `Apache is not running (${report.apache.reason}): no process was signalled.\n`;
  return report.groups
    .map((g) =>
      g.done
        ? `${g.group}: restarted, pid ${g.oldPids.join(',') || '(none)'} -> ${g.newPids.join(',')}\n`
        : `${g.group}: NOT restarted: ${g.problem}\n`,
    )
    .join('');
}
