/**
 * `defaults:` holds what every group gets: `daemon` (WSGIDaemonProcess options), `env` and
 * `settings`. Inventories written before that put the daemon options directly under `defaults`;
 * that form is still read (validate says how to update it). Pure.
 */
const sections = new Set(['daemon', 'env', 'settings']);

const asRecord = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/** The daemon options written directly under `defaults` (the old form). */
export function flatDaemonKeys(defaults: unknown): string[] {
  return Object.keys(asRecord(defaults)).filter((key) => !sections.has(key));
}

/** Every group's daemon options, from either form. */
export function daemonDefaultsOf(defaults: unknown): Record<string, unknown> {
  const raw = asRecord(defaults);
  return { ...Object.fromEntries(flatDaemonKeys(raw).map((key) => [key, raw[key]])), ...asRecord(raw.daemon) };
}

/** Entries of `defaults` first, then the group's own: a key the group sets takes its value (in the default's place). */
export function mergeEntries<V>(defaults: [string, V][], own: [string, V][]): [string, V][] {
  return [...new Map([...defaults, ...own])];
}
