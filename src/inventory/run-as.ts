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

/** The default account of a group under per-group isolation: `site.account_prefix` (default plex-) + its name. */
export const defaultAccountPrefix = 'plex-';
export const defaultAccount = (group: string, prefix = defaultAccountPrefix) => `${prefix}${group.toLowerCase()}`;

/**
 * The comment (GECOS) plexctl gives an account it creates: which group of which inventory it is
 * for. Only an account with exactly this comment is ever treated as that group's alone.
 */
export const accountComment = (inventoryFile: string, group: string) => `plexctl ${group} ${inventoryFile}`.replace(/[:\n]/g, '_');

/** A name useradd accepts without --badname, and never an option (a leading "-"). */
export const accountNamePattern = /^[a-z_][a-z0-9_-]{0,31}$/;

export function runAsOf(
  isolation: Isolation,
  group: string,
  own: Record<string, unknown> | undefined,
  defaults: Record<string, unknown> | undefined,
  prefix = defaultAccountPrefix,
): RunAs | undefined {
  const pick = (key: 'user' | 'group') => {
    const value = own?.[key] ?? defaults?.[key];
    return typeof value === 'string' ? value : undefined;
  };
  const user = pick('user') ?? (isolation === 'per-group' ? defaultAccount(group, prefix) : undefined);
  if (user === undefined) return undefined;
  return { user, group: pick('group') ?? user };
}
