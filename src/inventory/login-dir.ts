/** Where the login pages live (auth: form), which validation must keep apart from the private files. Pure. */
import { basename, dirname, extname, join } from 'node:path';

/** Beside conf_file, outside wsgi_dir: `build/plex.conf` -> `build/plex-login/`. */
export function loginDirFor(confFile: string): string {
  return join(dirname(confFile), `${basename(confFile, extname(confFile))}-login`);
}
