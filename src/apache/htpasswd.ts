/**
 * The htpasswd file of the site's users. Entries are bcrypt hashes made by Apache's own
 * `htpasswd` (apache2-utils), which reads the password on standard input: it never appears in
 * argv, the environment or any output.
 */
import { mkdir } from 'node:fs/promises';
import { readRegularFile } from '../system/safe-fs.js';
import { dirname } from 'node:path';
import { exec } from '../exec.js';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../apply/atomic-write.js';

export const htpasswdBinary = '/usr/bin/htpasswd';

/** `user:$2y$...` for one user, from Apache's htpasswd with bcrypt. */
export async function bcryptEntry(user: string, password: string, cost = 5): Promise<string> {
  if (password.length === 0) throw new UserError('the password is empty', 'send the password on standard input, one line');
  if (/[\r\n\u0000]/.test(password)) throw new UserError('the password contains a line break or NUL byte');
  if (user.startsWith('-')) throw new UserError(`the user name ${user} starts with "-", which htpasswd would read as an option`);
  const result = await exec(htpasswdBinary, ['-n', '-i', '-B', '-C', String(cost), '--', user], {
    input: password,
    reject: false,
    extendEnv: false,
    env: { PATH: '/usr/bin:/bin', LANG: 'C' },
  });
  const line = result.stdout.split('\n')[0] ?? '';
  if (result.exitCode !== 0 || !line.startsWith(`${user}:$2`)) {
    // htpasswd's stderr never contains the password: it read it from stdin.
    throw new Error(`htpasswd failed for ${user}: ${result.stderr.trim() || `exit ${result.exitCode}`}`);
  }
  return line;
}

/** Parse an htpasswd file, keeping every line that is not a user entry (comments, blanks) as it is. */
export function parseHtpasswd(text: string): { lines: string[]; users: Map<string, number> } {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const users = new Map<string, number>();
  lines.forEach((line, i) => {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) users.set(line.slice(0, colon), i);
  });
  return { lines, users };
}

/** Set (or with `line === undefined`, remove) one user's entry. Pure. */
export function withEntry(text: string, user: string, line: string | undefined): string {
  const { lines, users } = parseHtpasswd(text);
  const at = users.get(user);
  if (at !== undefined) {
    if (line === undefined) lines.splice(at, 1);
    else lines[at] = line;
  } else if (line !== undefined) {
    lines.push(line);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** Never through a link, FIFO or device, nor from a file with another name (a linked user_file must not copy another file's content); bounded. */
export async function readHtpasswd(path: string): Promise<string> {
  const file = await readRegularFile(path, { maxBytes: 256 * 1024 * 1024, singleLink: true });
  return file === undefined ? '' : file.content.toString('utf8');
}

/**
 * A user file plexctl creates is readable by Apache's user and nobody else unprivileged:
 * mode 0640, group www-data when running as root (Apache's workers read it as www-data).
 */
export async function writeHtpasswd(path: string, text: string, apacheGid: number | undefined): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  await writeFileAtomic(path, text, {
    mode: apacheGid === undefined ? 0o600 : 0o640,
    ...(apacheGid !== undefined ? { owner: { uid: 0, gid: apacheGid } } : {}),
  });
}
