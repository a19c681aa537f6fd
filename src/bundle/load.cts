/**
 * Start-up side (reads files, compiles code): the CLI from one file with V8's code cache.
 *
 * Loading the CLI as ~120 ES modules and CommonJS files (yaml alone is 70) cost more than plexctl
 * does before it starts working. `npm run build` (tools/build-bundle.ts) therefore also writes the
 * whole CLI as one CommonJS file, dist/plexctl.cjs (esbuild, with each module still initialised
 * only when first imported), and beside it dist/plexctl.cache: V8's code cache of that file after
 * a run of `--help` and `validate`, so a start needs neither parsing nor compiling what those
 * runs used. Node 22 has a compile cache of its own (module.enableCompileCache, written at run
 * time); Node 20 has none, and plexctl's is made by the build only.
 *
 * The cache is compiled code: whoever can change it decides what runs, as whoever can change the
 * bundle does, and V8 checks no more than its version, flags and the source's length. So it is
 * never written at run time, and it is used only when
 * - it is a regular file (not followed through a symlink) that nobody can write who could not
 *   write the bundle: the same owner, and no group or other write bit the bundle lacks;
 * - its header names the bundle's size and modification time (to the nanosecond) as the build
 *   wrote it, so that an edited bundle, even one of the same length, is never run from it (a
 *   content hash would say the same, but loading node:crypto alone costs more than the cache's
 *   own check; whoever could reset the time could rewrite the bundle anyway);
 * - V8 accepts it (same Node, same flags).
 * Otherwise the bundle is compiled as usual: a cache not used costs time, never correctness.
 *
 * A bundle older than any of plexctl's own modules it was made from (dist/src rebuilt by tsc
 * alone, or a bundling step that failed) is not run: the modules are, with a note saying so.
 */
// CommonJS (.cts), so that bin/plexctl.js can be CommonJS too: Node's ES module loader costs a
// few milliseconds a start that the bundle does not need.
import fs = require('node:fs');
import nodeModule = require('node:module');
import path = require('node:path');
import vm = require('node:vm');

const bundleFileName = 'plexctl.cjs';
const cacheFileName = 'plexctl.cache';
/** The bundle's first line. */
const bundleHeader = '// plexctl-bundle';
/** The bundle's second line: this, then the JSON list of plexctl's own modules it holds, relative to dist/. */
const inputsHeader = '// plexctl-inputs ';
/** The cache file's first line: this, then the bundle's `size:mtimeNs` when the cache was made; then V8's data. */
const cacheHeader = 'plexctl-code-cache bundle=';

/** What became of the code cache. */
type CodeCacheState = 'accepted' | 'rejected by V8' | 'not this bundle' | 'writable by others' | 'not a regular file' | 'absent';

interface CompiledBundle {
  path: string;
  script: vm.Script;
  codeCache: CodeCacheState;
}

/** The CommonJS wrapper, as Node's own loader gives a .cjs file. */
function wrap(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
}

function lineAt(source: Buffer, start: number): { text: string; next: number } {
  const end = source.indexOf(0x0a, start);
  const stop = end < 0 ? source.length : end;
  return { text: source.subarray(start, stop).toString('utf8'), next: stop + 1 };
}

/** The modules under dist/ the bundle was made from, from its second line. */
function inputsOf(source: Buffer, bundlePath: string): string[] {
  const first = lineAt(source, 0);
  if (first.text !== bundleHeader) throw new Error(`${bundlePath}: not a plexctl bundle (no "${bundleHeader}" first line); run npm run build`);
  const second = lineAt(source, first.next).text;
  if (!second.startsWith(inputsHeader)) throw new Error(`${bundlePath}: no "${inputsHeader.trim()}" line; run npm run build`);
  const inputs: unknown = JSON.parse(second.slice(inputsHeader.length));
  if (!Array.isArray(inputs) || !inputs.every((input) => typeof input === 'string')) throw new Error(`${bundlePath}: its "${inputsHeader.trim()}" line is not a list of paths; run npm run build`);
  return inputs;
}

/** The bundle file as the cache's header names it. */
function identityOf(bundle: fs.BigIntStats): string {
  return `${bundle.size}:${bundle.mtimeNs}`;
}

/** V8's data from `cache` when it was made for the bundle file `bundle` is now, else why not. */
function cachedDataFor(cache: Buffer, bundle: fs.BigIntStats): Buffer | 'not this bundle' {
  const header = lineAt(cache, 0);
  if (header.next > cache.length || header.text !== cacheHeader + identityOf(bundle)) return 'not this bundle';
  return cache.subarray(header.next);
}

/** The cache's bytes, or why it may not be used: read without following a link, refused when more writable than the bundle. */
function readCache(cachePath: string, bundle: fs.BigIntStats): Buffer | 'not this bundle' | Exclude<CodeCacheState, 'accepted' | 'rejected by V8'> {
  let fd: number;
  try {
    fd = fs.openSync(cachePath, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'absent';
    if (code === 'ELOOP') return 'not a regular file';
    throw error;
  }
  try {
    const stats = fs.fstatSync(fd, { bigint: true });
    if (!stats.isFile()) return 'not a regular file';
    if (stats.uid !== bundle.uid || (stats.mode & 0o022n & ~bundle.mode) !== 0n) return 'writable by others';
    return cachedDataFor(fs.readFileSync(fd), bundle);
  } finally {
    fs.closeSync(fd);
  }
}

/** Compiles the bundle (`source`, its bytes) with V8's data `cached`, or none (and why not). */
function compileBundle(bundlePath: string, source: Buffer, cached: Buffer | CodeCacheState): CompiledBundle {
  inputsOf(source, bundlePath);
  const script = new vm.Script(wrap(source.toString('utf8')), { filename: bundlePath, ...(typeof cached === 'string' ? {} : { cachedData: cached }) });
  const codeCache: CodeCacheState = typeof cached === 'string' ? cached : script.cachedDataRejected ? 'rejected by V8' : 'accepted';
  return { path: bundlePath, script, codeCache };
}

/** Runs the compiled bundle once and returns its exports (those of src/cli.ts). */
function runBundle(bundle: CompiledBundle): unknown {
  const factory = bundle.script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;
  const module = { exports: {} as unknown };
  factory.call(module.exports, module.exports, nodeModule.createRequire(bundle.path), module, bundle.path, path.dirname(bundle.path));
  return module.exports;
}

/** The code cache file's content for `bundle`, now written as the file `written`, made after the runs it should cover. */
function codeCacheOf(bundle: CompiledBundle, written: fs.BigIntStats): Buffer {
  return Buffer.concat([Buffer.from(`${cacheHeader}${identityOf(written)}\n`, 'utf8'), bundle.script.createCachedData()]);
}

type BundledCli<Exports> =
  | { kind: 'bundle'; exports: Exports; codeCache: CodeCacheState }
  /** The bundle is older than `newer`, one of the modules it was made from: run the modules instead. */
  | { kind: 'stale'; newer: string }
  /** dist/plexctl.cjs is not a bundle this loader knows (its header lines): run the modules instead. */
  | { kind: 'unknown' }
  /** The build made no bundle (tsc alone). */
  | { kind: 'none' };

/** The first of the bundle's inputs changed (or gone) since the bundle was written, if any. */
function newerInput(distDir: string, inputs: readonly string[], bundle: fs.BigIntStats): string | undefined {
  for (const input of inputs) {
    const stats = fs.statSync(path.join(distDir, input), { throwIfNoEntry: false, bigint: true });
    if (!stats || stats.mtimeNs > bundle.mtimeNs) return input;
  }
  return undefined;
}

/** The CLI from `distDir`'s bundle, or why the modules in dist/src must run instead. */
function loadBundledCli<Exports>(distDir: string): BundledCli<Exports> {
  const bundlePath = path.join(distDir, bundleFileName);
  let fd: number;
  try {
    fd = fs.openSync(bundlePath, fs.constants.O_RDONLY);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    throw error;
  }
  let source: Buffer;
  let stats: fs.BigIntStats;
  try {
    stats = fs.fstatSync(fd, { bigint: true });
    source = fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  let inputs: string[];
  try {
    inputs = inputsOf(source, bundlePath);
  } catch {
    return { kind: 'unknown' };
  }
  const newer = newerInput(distDir, inputs, stats);
  if (newer !== undefined) return { kind: 'stale', newer };
  const bundle = compileBundle(bundlePath, source, readCache(path.join(distDir, cacheFileName), stats));
  return { kind: 'bundle', exports: runBundle(bundle) as Exports, codeCache: bundle.codeCache };
}

export = { bundleFileName, cacheFileName, bundleHeader, inputsHeader, cacheHeader, compileBundle, runBundle, codeCacheOf, loadBundledCli };
