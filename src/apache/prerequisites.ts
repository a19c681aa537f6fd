/** What a real Apache + mod_wsgi + Django needs on this machine, and the Debian packages that provide it. */
import { access } from 'node:fs/promises';
import { exec } from '../exec.js';

export const apacheBinary = '/usr/sbin/apache2';
export const moduleDir = '/usr/lib/apache2/modules';
/** Debian's mod_wsgi embeds this Python, whatever python3 is first on PATH. */
export const systemPython = '/usr/bin/python3';

export const debianPackages = ['apache2', 'apache2-utils', 'libapache2-mod-wsgi-py3', 'python3-django'];
export const aptGetLine = `apt-get update && apt-get install -y ${debianPackages.join(' ')}`;

export interface Missing {
  what: string;
  package: string;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

export async function findMissing(): Promise<Missing[]> {
  const missing: Missing[] = [];
  if (!(await exists(apacheBinary))) missing.push({ what: `Apache (${apacheBinary})`, package: 'apache2' });
  if (!(await exists('/usr/bin/htpasswd'))) missing.push({ what: 'htpasswd', package: 'apache2-utils' });
  if (!(await exists(`${moduleDir}/mod_wsgi.so`))) missing.push({ what: `mod_wsgi (${moduleDir}/mod_wsgi.so)`, package: 'libapache2-mod-wsgi-py3' });
  const django = await exec(systemPython, ['-c', 'import django'], { reject: false, env: { PATH: '/usr/bin:/bin' }, extendEnv: false });
  if (django.exitCode !== 0) missing.push({ what: `Django for ${systemPython}`, package: 'python3-django' });
  return missing;
}
