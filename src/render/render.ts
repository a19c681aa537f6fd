/** Inventory -> the full set of generated files. Pure and deterministic. */
import type { Inventory } from '../inventory/types.js';
import { apacheArg, apacheOption, apacheQuoted } from './escape-apache.js';
import { pyStr, pyValue } from './escape-python.js';
import { createHash } from 'node:crypto';
import { generatedPaths, marker, procmapName } from './files.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
import { renderTemplate } from './templates.js';

export type FileKind = 'apache-conf' | 'main-script' | 'group-script' | 'procmap' | 'procmap-dbm';

/** The files that route users: Apache re-reads them on the next request, nothing restarts. */
export const isMapKind = (kind: FileKind) => kind === 'procmap' || kind === 'procmap-dbm';

export interface DesiredFile {
  path: string;
  kind: FileKind;
  /** For group scripts: the group whose daemons must restart when it changes. */
  group?: string;
  content: string;
  /** For procmap-dbm (whose content is the sha256 of its source): the map text httxt2dbm builds it from. */
  dbmSource?: string;
}

const helpers = {
  apache: apacheArg,
  option: apacheOption,
  quoted: apacheQuoted,
  py: pyStr,
  pyValue,
  pyList: (items: string[]) => `[${items.map(pyStr).join(', ')}]`,
};

/** Map keys are compared byte for byte; sort the same way so the output never depends on locale. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function renderProcmap(inventory: Inventory): string {
  const users = [...inventory.users].sort((a, b) => byteOrder(a.user, b.user));
  return renderTemplate('procmap.txt', { marker: marker(inventory), users });
}

export function renderFiles(inventory: Inventory): DesiredFile[] {
  const paths = generatedPaths(inventory);
  const common = { ...helpers, marker: marker(inventory) };
  const groups = inventory.groups.map((group) => ({
    ...group,
    script: paths.group(group.name),
    options: Object.entries({ ...inventory.defaults, ...group.daemon }).sort(([a], [b]) => byteOrder(a, b)),
  }));
  const conf = renderTemplate('plex.conf', {
    ...common,
    groups,
    files: paths,
    mount: inventory.site.mount,
    map: inventory.apache.map,
    wsgiDir: inventory.apache.wsgiDir,
    realm: inventory.apache.realm,
    userFile: inventory.apache.userFile,
  });
  const main = renderTemplate('site.wsgi', common);
  const procmap = renderProcmap(inventory);
  return [
    { path: paths.conf, kind: 'apache-conf', content: conf },
    { path: paths.main, kind: 'main-script', content: main },
    ...groups.map(
      (group): DesiredFile => ({
        path: group.script,
        kind: 'group-script',
        group: group.name,
        content: renderTemplate('group.wsgi', {
          ...common,
          group,
          pythonPath: inventory.site.pythonPath,
          settingsModule: inventory.site.settingsModule,
        }),
      }),
    ),
    { path: paths.procmap, kind: 'procmap', content: procmap },
    ...(inventory.apache.map === 'dbm'
      ? [{ path: paths.procmapDbmSource, kind: 'procmap-dbm' as const, content: `${sha256(procmap)}  ${procmapName}\n`, dbmSource: procmap }]
      : []),
  ];
}
