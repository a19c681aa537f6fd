/**
 * What Apache and mod_wsgi require of the names the inventory gives them, for the validator
 * (src/inventory/) to enforce without knowing why. Pure.
 */

/** Apache's unprivileged user on Debian (its workers run as it). */
export const apacheUser = 'www-data';

/** mod_wsgi's process title for a group's daemons (display-name=%{GROUP}). */
export const daemonTitle = (group: string) => `(wsgi:${group})`;

/** Longest group name whose title fits in argv[0] of `/usr/sbin/apache2` (17 characters). */
export const maxGroupNameLength = 10;
/** Longest user name: REMOTE_USER, a map key and a password-file name (htpasswd stops at 255 bytes). */
export const maxUserNameLength = 64;

export const groupNameRuleText =
  'a group name starts with a letter and has only letters, digits, "_" and "-" (it is used in Apache directives, file names and the (wsgi:NAME) process title)';
export const userNameRuleText =
  'a user name must not contain whitespace, ":" or control characters, nor start with "#" (it is a map key and an htpasswd name)';
export const leadingDashText = 'a user name must not start with "-" (htpasswd would read it as an option)';
export const userFileDescription = 'the htpasswd file of the site\'s users';

/**
 * mod_wsgi writes the title over Apache's argv[0] and cuts it at argv[0]'s length; a cut title
 * could match another group. Returns the problem for a name that does not fit, or undefined.
 */
export function titleProblem(name: string, argv0: string): string | undefined {
  const room = argv0.length - daemonTitle('').length;
  if (name.length <= room) return undefined;
  return `the process title ${daemonTitle(name)} does not fit in argv[0] "${argv0}" (${room} characters of room); use a shorter group name`;
}
