/** Durations in the inventory (`30s`, `5m`, `8h`, `1d`), as the schema's pattern admits them. Pure. */
const unitSeconds = { s: 1, m: 60, h: 3600, d: 86400 } as const;

export const durationPattern = /^([0-9]{1,7})([smhd])$/;

/** Seconds of a duration; undefined for text that is not one. */
export function parseDuration(text: string): number | undefined {
  const match = durationPattern.exec(text);
  return match ? Number(match[1]) * unitSeconds[match[2] as keyof typeof unitSeconds] : undefined;
}

/** For text that passed the schema. */
export function durationSeconds(text: string): number {
  const seconds = parseDuration(text);
  if (seconds === undefined) throw new Error(`not a duration: ${text}`);
  return seconds;
}
