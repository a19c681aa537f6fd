/**
 * What is on disk now, and the one function that puts the desired files against it. Read-only:
 * this folder observes (files, processes, the web server) and never changes anything.
 */
import { lstat, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Inventory } from '../inventory/types.js';
import type { ActualFiles, DesiredFile, FileChange, FileKind } from '../model/files.js';
import { planFiles } from '../plan/file-plan.js';
import { descriptorOf, generatedFiles, leftoverCandidates, renderFiles, type RenderOptions } from '../render/generated-files.js';
import { isOwnedContent, marker, markerPrefix } from '../render/files.js';
import { UserError } from '../errors.js';
import { groupIdsByName } from '../system/accounts.js';
import { readRegularFile, UnsafePathError, type RegularFile } from '../system/safe-fs.js';

/** Generated files are at most a few megabytes (100k users' map: about 2 MB). */
export const maxGeneratedFileBytes = 256 * 1024 * 1024;

/** A managed file: only ever a regular file, never through a link, its facts from the open descriptor. */
async function readManaged(path: string): Promise<RegularFile | undefined> {
  try {
    return await readRegularFile(path, { maxBytes: maxGeneratedFileBytes, singleLink: true });
  } catch (error) {
    if (error instanceof UnsafePathError && /is a directory/.test(error.reason)) {
      throw new UserError(`${path} is a directory, where plexctl writes a file`, 'move it away, then run the command again');
    }
    throw error;
  }
}

/**
 * The content of a file plexctl may delete as its own leftover, or undefined: only a regular file
 * (never a link, never another file's second name) can be plexctl's, and anything else there is
 * left alone and stops no command.
 */
async function readOwnCandidate(path: string): Promise<string | undefined> {
  const stats = await lstat(path).catch(() => undefined);
  if (!stats?.isFile()) return undefined;
  const file = await readRegularFile(path, { maxBytes: maxGeneratedFileBytes, singleLink: true }).catch(() => undefined);
  return file?.content.toString('utf8');
}

/**
 * The content of every desired path, and the leftovers plexctl owns: files in wsgiDir that a
 * descriptor's `owned` pattern names, and files at a descriptor's `leftover` path (`leftovers`,
 * from leftoverCandidates) whose content it recognises, when they are no longer desired.
 */
export async function readActualFiles(desired: DesiredFile[], wsgiDir: string, markerLine?: string, leftovers: readonly { path: string; kind: FileKind }[] = []): Promise<ActualFiles> {
  const contents = new Map<string, string | undefined>();
  const access: NonNullable<ActualFiles['access']> = new Map();
  await Promise.all(
    desired.map(async (f) => {
      const file = await readManaged(f.path);
      contents.set(f.path, file?.content.toString('utf8'));
      if (file) access.set(f.path, { mode: file.mode, uid: file.uid, gid: file.gid });
    }),
  );
  // Owners are compared only where plexctl can change them.
  const groupIds = process.getuid?.() === 0 ? await groupIdsByName() : undefined;
  const owned: ActualFiles['owned'] = new Map();
  let names: string[] = [];
  try {
    names = await readdir(wsgiDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  for (const descriptor of generatedFiles) {
    const rule = descriptor.owned;
    if (!rule) continue;
    for (const name of names.filter((n) => rule.name.test(n))) {
      const path = join(wsgiDir, name);
      if (contents.has(path)) continue;
      const content = await readOwnCandidate(path);
      if (content === undefined) continue;
      if (rule.requireMarker && !isOwnedContent(content, markerLine)) continue;
      owned.set(path, { kind: descriptor.kind, ...(rule.groupOf ? { group: rule.groupOf(name) } : {}), content });
    }
  }
  for (const leftover of leftovers) {
    const rule = descriptorOf(leftover.kind).leftover;
    if (!rule || contents.has(leftover.path) || markerLine === undefined) continue;
    const beside = desired.find((f) => f.kind === rule.beside);
    const besideContent = beside && contents.get(beside.path);
    if (besideContent === undefined || !isOwnedContent(besideContent, markerLine)) continue;
    const content = await readOwnCandidate(leftover.path);
    if (content !== undefined && rule.owns(content)) owned.set(leftover.path, { kind: leftover.kind, content });
  }
  return { contents, access, owned, ...(groupIds ? { groupIds } : {}) };
}

/** Retarget the generated files under `outDir` (for review): each descriptor says DIR itself or DIR/wsgi. */
export function underOutDir<File extends { path: string; kind: FileKind }>(files: File[], outDir: string): { files: File[]; wsgiDir: string } {
  const wsgiDir = join(outDir, 'wsgi');
  return {
    wsgiDir,
    files: files.map((f) => ({ ...f, path: join(outDir, descriptorOf(f.kind).outSubdir, basename(f.path)) })),
  };
}

/** The marker line among a file's first lines, or undefined when it has none. */
function markerLineOf(content: string): string | undefined {
  return content.split('\n', 4).find((line) => line.startsWith(`# ${markerPrefix} from `));
}

/**
 * A file where this inventory writes that another inventory generated (its marker names another
 * inventory file): two inventories sharing a wsgi_dir or a conf_file would overwrite each
 * other's site.wsgi, map and fragment, so neither writes it. Each file's marker is compared with
 * the one this inventory renders for it (the same escaping for the same language).
 */
export function foreignFiles(desired: DesiredFile[], contents: ReadonlyMap<string, string | undefined>): { path: string; marker: string }[] {
  const foreign: { path: string; marker: string }[] = [];
  for (const file of desired) {
    const existing = contents.get(file.path);
    if (existing === undefined) continue;
    const theirs = markerLineOf(existing);
    const ours = markerLineOf(file.content);
    if (theirs !== undefined && ours !== undefined && theirs !== ours) foreign.push({ path: file.path, marker: theirs });
  }
  return foreign;
}

/** Desired files against the disk: the file plan every command uses (render, plan, reconcile, status, user). */
export async function desiredAgainstDisk(inventory: Inventory, outDir?: string, options?: RenderOptions): Promise<FileChange[]> {
  let files = renderFiles(inventory, options);
  let leftovers = leftoverCandidates(inventory);
  let wsgiDir = inventory.apache.wsgiDir;
  if (outDir !== undefined) {
    ({ files, wsgiDir } = underOutDir(files, outDir));
    leftovers = underOutDir(leftovers, outDir).files;
  }
  const actual = await readActualFiles(files, wsgiDir, marker(inventory), leftovers);
  refuseForeignFiles(files, actual.contents);
  return planFiles(files, actual);
}

/** Refuses (UserError) when a file this inventory writes was generated from another inventory. */
export function refuseForeignFiles(files: DesiredFile[], contents: ReadonlyMap<string, string | undefined>): void {
  const foreign = foreignFiles(files, contents);
  if (foreign.length > 0) {
    const first = foreign[0]!;
    const from = /^# Generated by plexctl from (.*)\. Do not edit/.exec(first.marker)?.[1] ?? 'another inventory';
    throw new UserError(
      `${first.path} was generated from another inventory (${from})${foreign.length > 1 ? `, and so were ${foreign.length - 1} more of the files this inventory writes` : ''}; two inventories sharing it would overwrite each other's files, so nothing was written`,
      `give this inventory its own apache.wsgi_dir and conf_file (or --out DIR); if that inventory is this one before it moved, remove the file (rm ${first.path}) and run the command again`,
    );
  }
}
