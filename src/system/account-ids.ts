/**
 * The uid and gid range plexctl makes the groups' accounts in, and whether it has room for them.
 * `useradd --system` picks from SYS_UID_MIN..SYS_UID_MAX of /etc/login.defs (Debian: 100-999),
 * so a pool of a thousand groups does not fit: without this check a reconcile would make the
 * first eight hundred accounts and then fail. With `site.account_ids` the range is the
 * inventory's, passed to useradd and groupadd as `-K` overrides. The arithmetic is pure; only
 * `systemIdRange` reads a file.
 */
import { readFile } from 'node:fs/promises';

export interface IdRange {
  min: number;
  max: number;
}

/** SYS_UID_MIN/SYS_UID_MAX (and the GID pair) from login.defs text, with useradd's own defaults. */
export function parseSystemIdRange(loginDefs: string): { uid: IdRange; gid: IdRange } {
  const value = (key: string) => {
    const match = new RegExp(`^\\s*${key}\\s+(\\d+)\\s*$`, 'm').exec(loginDefs);
    return match ? Number(match[1]) : undefined;
  };
  // shadow's defaults when a key is absent: SYS_*_MIN 101, SYS_*_MAX *_MIN - 1.
  const range = (kind: 'UID' | 'GID'): IdRange => ({
    min: value(`SYS_${kind}_MIN`) ?? 101,
    max: value(`SYS_${kind}_MAX`) ?? (value(`${kind}_MIN`) ?? 1000) - 1,
  });
  return { uid: range('UID'), gid: range('GID') };
}

export async function systemIdRange(): Promise<{ uid: IdRange; gid: IdRange }> {
  return parseSystemIdRange(await readFile('/etc/login.defs', 'utf8').catch(() => ''));
}

/** How many ids of `range` no entry uses. */
export function freeIds(range: IdRange, used: Iterable<number>): number {
  const taken = new Set<number>();
  for (const id of used) if (id >= range.min && id <= range.max) taken.add(id);
  return Math.max(0, range.max - range.min + 1 - taken.size);
}

/** useradd's and groupadd's `-K` overrides that make them pick ids from `range` (none for the system range). */
export function idRangeArgs(range: IdRange | undefined, kinds: ('UID' | 'GID')[]): string[] {
  if (range === undefined) return [];
  return kinds.flatMap((kind) => ['-K', `SYS_${kind}_MIN=${range.min}`, '-K', `SYS_${kind}_MAX=${range.max}`]);
}
