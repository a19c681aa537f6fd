/** Read what is on disk now, for planFiles. Read-only. */
import { lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { groupScriptPattern, markerPrefix, procmapDbmSourceName } from '../render/files.js';
import type { DesiredFile } from '../render/render.js';
import type { ActualFiles } from './file-plan.js';
import { UserError } from '../errors.js';

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'EISDIR') throw new UserError(`${path} is a directory, where plexctl writes a file`, 'move it away, then run the command again');
    throw error;
  }
}

/** A group script is plexctl's own only if it is a regular file (not a link) that starts with the marker. */
export function isOwnedContent(content: string): boolean {
  return content.startsWith(`# ${markerPrefix} `);
}

export async function readActualFiles(desired: DesiredFile[], wsgiDir: string): Promise<ActualFiles> {
  const contents = new Map<string, string | undefined>();
  await Promise.all(desired.map(async (f) => contents.set(f.path, await readIfExists(f.path))));
  const owned: ActualFiles['owned'] = new Map();
  let names: string[] = [];
  try {
    names = await readdir(wsgiDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  for (const name of names.filter((n) => groupScriptPattern.test(n))) {
    const path = join(wsgiDir, name);
    if (contents.has(path)) continue;
    if (!(await lstat(path)).isFile()) continue;
    const content = await readFile(path, 'utf8');
    if (isOwnedContent(content)) owned.set(path, { kind: 'group-script', group: name.slice('group-'.length, -'.wsgi'.length), content });
  }
  // A DBM map left from `map: dbm` after a switch back to txt.
  const dbmSource = join(wsgiDir, procmapDbmSourceName);
  if (!contents.has(dbmSource) && names.includes(procmapDbmSourceName)) {
    owned.set(dbmSource, { kind: 'procmap-dbm', content: await readFile(dbmSource, 'utf8') });
  }
  return { contents, owned };
}
