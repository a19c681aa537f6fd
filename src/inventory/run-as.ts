/**
 * Which Unix user and group each group's daemons run as. Pure: the same function serves the
 * validator (which refuses shared or privileged identities) and the inventory it builds.
 *
 * per-group isolation (the default): `daemon.user`/`daemon.group` of the group, else of defaults,
 * else `plex-<group>` (lower case: a system account name). shared: only what the inventory names;
 * nothing named means Apache's own user, as mod_wsgi does without user=.
 */
export type Isolation = 'per-group' | 'shared';

export interface RunAs {
  user: string;
  group: string;
}

/** The default account of a group under per-group isolation. */
export const defaultAccount = (group: string) => `plex-${group.toLowerCase()}`;

/** A name useradd accepts without --badname, and never an option (a leading "-"). */
export const accountNamePattern = /^[a-z_][a-z0-9_-]{0,31}$/;

export function runAsOf(
  isolation: Isolation,
  group: string,
  own: Record<string, unknown> | undefined,
  defaults: Record<string, unknown> | undefined,
): RunAs | undefined {
  const pick = (key: 'user' | 'group') => {
    const value = own?.[key] ?? defaults?.[key];
    return typeof value === 'string' ? value : undefined;
  };
  const user = pick('user') ?? (isolation === 'per-group' ? defaultAccount(group) : undefined);
  if (user === undefined) return undefined;
  return { user, group: pick('group') ?? user };
}
