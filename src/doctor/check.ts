/** One check `doctor` reports, and their text. Pure. */
export type CheckStatus = 'ok' | 'FAIL' | 'warn';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about it (for FAIL and warn). */
  hint?: string;
}

export const ok = (name: string, detail: string): Check => ({ name, status: 'ok', detail });
export const fail = (name: string, detail: string, hint: string): Check => ({ name, status: 'FAIL', detail, hint });
export const warn = (name: string, detail: string, hint: string): Check => ({ name, status: 'warn', detail, hint });

export function formatChecks(checks: Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.map((c) => {
    const head = `${c.status.padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}\n`;
    return c.status !== 'ok' && c.hint ? `${head}${' '.repeat(6 + width + 2)}fix: ${c.hint}\n` : head;
  });
  const failed = checks.filter((c) => c.status === 'FAIL').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  const summary =
    failed + warned === 0
      ? `All ${checks.length} checks ok.\n`
      : `${checks.length} checks: ${failed} FAIL, ${warned} warn, ${checks.length - failed - warned} ok.\n`;
  return `${lines.join('')}${summary}`;
}
