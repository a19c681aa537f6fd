/** Waiting for something on the live server: one polling helper, one clock tolerance. */

/**
 * Start times come from /proc in 10 ms ticks, against a boot time known to 10 ms: a file counts as
 * changed after a daemon started only if its mtime is more than this much later.
 */
export const clockToleranceMs = 20;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Call `attempt` every `intervalMs` until it returns true or `timeoutMs` has passed (it always runs
 * at least once, and once more at the deadline). Resolves to whether it succeeded.
 */
export async function pollUntil(attempt: () => Promise<boolean>, options: { timeoutMs: number; intervalMs: number }): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await attempt()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(options.intervalMs, Math.max(0, deadline - Date.now())));
  }
}
