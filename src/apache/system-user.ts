/** Apache's unprivileged user on Debian, used when plexctl runs as root. */
import { readFile } from 'node:fs/promises';

import { apacheUser } from './name-limits.js';

export { apacheUser };

/** The gid of Apache's user, when running as root; undefined otherwise (everything runs as us). */
export async function apacheGid(): Promise<number | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  const entry = passwd.split('\n').find((line) => line.startsWith(`${apacheUser}:`));
  const gid = entry?.split(':')[3];
  return gid === undefined ? undefined : Number(gid);
}
