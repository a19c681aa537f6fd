/** Credentials kept in Apache's password file (apache.user_file), checked by mod_authn_file. */
import type { Credentials } from '../credentials/credentials.js';
import { bcryptEntry, parseHtpasswd, readHtpasswd, withEntry, writeHtpasswd } from './htpasswd.js';
import { apacheGid } from './system-user.js';

export function passwordFileCredentials(file: string, bcryptCost = 5): Credentials {
  const users = async () => parseHtpasswd(await readHtpasswd(file)).users;
  return {
    location: file,
    list: async () => [...(await users()).keys()],
    has: async (user) => (await users()).has(user),
    async set(user, password) {
      // The hash is made before the file is read, so the read-modify-write is as short as it can be.
      const entry = await bcryptEntry(user, password, bcryptCost);
      await writeHtpasswd(file, withEntry(await readHtpasswd(file), user, entry), await apacheGid());
    },
    async remove(names) {
      const current = await readHtpasswd(file);
      const present = parseHtpasswd(current).users;
      const removed = names.filter((u) => present.has(u));
      if (removed.length === 0) return [];
      let text = current;
      for (const user of removed) text = withEntry(text, user, undefined);
      await writeHtpasswd(file, text, await apacheGid());
      return removed;
    },
    webServerConfig: () => ({ provider: 'file', directives: [['AuthUserFile', file]], modules: ['authn_file'] }),
  };
}
