/**
 * A lifecycle command is a list of steps run in a fixed order. If one fails, the command reports
 * which steps were done and which were not; running it again (or reconcile) completes the work.
 */
import { UserError } from '../errors.js';
import type { Event } from '../model/events.js';

/**
 * Why a step did nothing: nothing differed (`no-change`), nothing called for it (`not-needed`),
 * no password was given (`no-password`), the user's password was already set (`password-kept`),
 * the server is not running, so nothing was signalled (`not-running`).
 */
export type SkipReason = 'no-change' | 'not-needed' | 'no-password' | 'password-kept' | 'not-running';

/** A step that did nothing, and why; its events tell more (the server's state). */
export interface Skipped {
  skipped: SkipReason;
  events?: Event[];
}

export interface StepResult {
  name: string;
  status: 'done' | 'skipped' | 'failed' | 'not done';
  /** Why it did nothing (skipped); absent: no change. */
  reason?: SkipReason;
  /** What the step did (done), as events. */
  events?: Event[];
  /** Why it failed (failed). */
  error?: string;
}

export interface Step {
  name: string;
  /** Returns what it did, `false` when there was nothing to do, or why it did nothing. */
  run(): Promise<Event[] | false | Skipped>;
}

export class StepsFailed extends UserError {
  readonly steps: StepResult[];
  constructor(steps: StepResult[], cause: unknown) {
    const failed = steps.find((s) => s.status === 'failed');
    const rerun = 'then run the same command again (or `plexctl reconcile`): it completes the steps not done';
    super(
      `${failed?.name ?? 'a step'} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      cause instanceof UserError && cause.hint ? `${cause.hint}; ${rerun}` : `fix the cause, ${rerun}`,
    );
    this.name = 'StepsFailed';
    this.steps = steps;
  }
}

export async function runSteps(steps: Step[]): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (const [i, step] of steps.entries()) {
    try {
      const events = await step.run();
      if (events === false) results.push({ name: step.name, status: 'skipped' });
      else if (Array.isArray(events)) results.push({ name: step.name, status: 'done', events });
      else results.push({ name: step.name, status: 'skipped', reason: events.skipped, ...(events.events ? { events: events.events } : {}) });
    } catch (error) {
      results.push({ name: step.name, status: 'failed', error: error instanceof Error ? error.message : String(error) });
      results.push(...steps.slice(i + 1).map((s): StepResult => ({ name: s.name, status: 'not done' })));
      throw new StepsFailed(results, error);
    }
  }
  return results;
}
