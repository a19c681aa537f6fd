/**
 * As root, plexctl acts only on paths that nobody else can change (sshd's StrictModes, sudo's
 * checks on sudoers): every directory it writes into, the inventory (which is root-equivalent: it
 * names programs plexctl runs), and the programs it runs. Read-only: it says what is wrong and
 * how to fix it; the session refuses to start, and doctor reports the same checks.
 */
import { dirname } from 'node:path';
import type { Inventory } from './inventory/types.js';
import { checkTrustedDirectory, checkTrustedFile, type TrustProblem } from './system/safe-fs.js';

export interface TrustedPath {
  what: string;
  path: string;
  kind: 'directory' | 'file';
}

/** Every path plexctl writes into or trusts for this inventory. */
export function trustedPaths(inventory: Inventory): TrustedPath[] {
  const dirs: [string, string][] = [
    ['wsgi_dir', inventory.apache.wsgiDir],
    ["conf_file's directory", dirname(inventory.apache.confFile)],
    ["user_file's directory", dirname(inventory.apache.userFile)],
    ...(inventory.apache.siteFile !== undefined ? [["site_file's directory", dirname(inventory.apache.siteFile)] as [string, string]] : []),
    ...(inventory.site.static !== undefined ? [["site.static.dir's directory", dirname(inventory.site.static.dir)] as [string, string]] : []),
    ['site.data_dir', inventory.site.dataDir],
    ["the inventory's directory (its lock)", inventory.dir],
  ];
  const files: [string, string][] = [['the inventory', inventory.file]];
  const ctl = inventory.apache.ctl[0];
  if (ctl !== undefined && ctl.startsWith('/')) files.push(['apache.ctl', ctl]);
  // The configuration apache.ctl runs Apache on, as root: whoever can change it can make
  // `CTL -t` load their module, or `CTL -k graceful` signal the pid in a PidFile of theirs.
  inventory.apache.ctl.forEach((arg, i) => {
    const next = inventory.apache.ctl[i + 1];
    if (i > 0 && arg === '-f' && next !== undefined) files.push(["apache.ctl's -f configuration", next]);
  });
  // The pid file decides whose children plexctl signals.
  files.push(['apache.pid_file', inventory.apache.pidFile]);
  for (const group of inventory.groups) {
    const home = group.pythonHome;
    if (typeof home === 'string') dirs.push([`python-home of ${group.name}`, home]);
  }
  const seen = new Set<string>();
  return [
    ...dirs.map(([what, path]): TrustedPath => ({ what, path, kind: 'directory' })),
    ...files.map(([what, path]): TrustedPath => ({ what, path, kind: 'file' })),
  ].filter((p) => (seen.has(`${p.kind}:${p.path}`) ? false : (seen.add(`${p.kind}:${p.path}`), true)));
}

export interface TrustReport extends TrustedPath {
  problems: TrustProblem[];
}

export async function checkTrust(inventory: Inventory): Promise<TrustReport[]> {
  // The user running plexctl is trusted too: as root that is root alone.
  const allowedUids = [process.getuid?.() ?? 0];
  return Promise.all(
    trustedPaths(inventory).map(async (p) => ({
      ...p,
      problems: p.kind === 'directory' ? await checkTrustedDirectory(p.path, { allowedUids }) : await checkTrustedFile(p.path, { allowedUids }),
    })),
  );
}

/**
 * `render --out DIR` as root: DIR and DIR/wsgi are written into like wsgi_dir, so they get the
 * same check (a DIR/wsgi symlinked by someone else would land root's files wherever it points).
 */
export async function checkOutDir(outDir: string): Promise<TrustReport[]> {
  const allowedUids = [process.getuid?.() ?? 0];
  const dirs: TrustedPath[] = [
    { what: '--out', path: outDir, kind: 'directory' },
    { what: '--out/wsgi', path: `${outDir}/wsgi`, kind: 'directory' },
  ];
  return Promise.all(dirs.map(async (p) => ({ ...p, problems: await checkTrustedDirectory(p.path, { allowedUids }) })));
}
