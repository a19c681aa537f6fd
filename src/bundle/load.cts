/**
 * Start-up side (reads files, compiles code): the CLI from one file with V8's code cache.
 *
 * Loading the CLI as ~120 ES modules and CommonJS files (yaml alone is 70) cost more than plexctl
 * does before it starts working. `npm run build` (tools/build-bundle.ts) therefore also writes the
 * whole CLI as one CommonJS file, dist/plexctl.cjs (esbuild, with each module still initialised
 * only when first imported), and beside it dist/plexctl.cache: V8's code cache of that file after
 * a run of `--help` and `validate`, so a start needs neither parsing nor compiling what those
 * runs used. This is what Node 22's module.enableCompileCache() does; Node 20 has no such switch,
 * so plexctl carries it.
 *
 * The cache is written only by the build, beside the code it caches, and never at run time: it
 * is as trusted as dist/ itself, and a root run never reads a file another user could write that
 * dist/ did not already hold. A cache is used only for the bundle it was made from (a random
 * build id in both headers); V8 itself rejects one made by another V8 or other flags. Either
 * way the bundle is then compiled normally: a missing, stale or rejected cache costs time, never
 * correctness.
 */
// CommonJS (.cts), so that bin/plexctl.js can be CommonJS too: Node's ES module loader costs a
// few milliseconds a start that the bundle does not need.
import fs = require('node:fs');
import nodeModule = require('node:module');
import path = require('node:path');
import vm = require('node:vm');

const bundleFileName = 'plexctl.cjs';
const cacheFileName = 'plexctl.cache';
/** The bundle's first line: this, then the build id. */
const bundleHeader = '// plexctl-bundle ';
/** The cache file's first line: this, then the id of the bundle it was made from; then V8's data. */
const cacheHeader = 'plexctl-code-cache ';

/** What became of the code cache: used, refused by V8, made for another bundle, or not there. */
type CodeCacheState = 'accepted' | 'rejected' | 'stale' | 'absent';

interface CompiledBundle {
  path: string;
  buildId: string;
  script: vm.Script;
  codeCache: CodeCacheState;
}

/** The CommonJS wrapper, as Node's own loader gives a .cjs file. */
function wrap(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
}

function buildIdOf(source: string, bundlePath: string): string {
  const firstLine = source.slice(0, source.indexOf('\n'));
  if (!firstLine.startsWith(bundleHeader)) throw new Error(`${bundlePath}: not a plexctl bundle (no "${bundleHeader.trim()}" first line); run npm run build`);
  return firstLine.slice(bundleHeader.length);
}

/** V8's data from `cache` when it was made for the bundle `buildId`, else why not. */
function cachedDataFor(cache: Buffer | undefined, buildId: string): Buffer | Exclude<CodeCacheState, 'accepted' | 'rejected'> {
  if (!cache) return 'absent';
  const newline = cache.indexOf(0x0a);
  if (newline < 0 || cache.subarray(0, newline).toString('utf8') !== cacheHeader + buildId) return 'stale';
  return cache.subarray(newline + 1);
}

function readIfPresent(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Compiles the bundle at `path` (with `cache`, when it is the bundle's own). */
function compileBundle(bundlePath: string, source: string, cache: Buffer | undefined): CompiledBundle {
  const buildId = buildIdOf(source, bundlePath);
  const cached = cachedDataFor(cache, buildId);
  const script = new vm.Script(wrap(source), { filename: bundlePath, ...(typeof cached === 'string' ? {} : { cachedData: cached }) });
  const codeCache: CodeCacheState = typeof cached === 'string' ? cached : script.cachedDataRejected ? 'rejected' : 'accepted';
  return { path: bundlePath, buildId, script, codeCache };
}

/** Runs the compiled bundle once and returns its exports (those of src/cli.ts). */
function runBundle(bundle: CompiledBundle): unknown {
  const factory = bundle.script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;
  const module = { exports: {} as unknown };
  factory.call(module.exports, module.exports, nodeModule.createRequire(bundle.path), module, bundle.path, path.dirname(bundle.path));
  return module.exports;
}

/** The code cache file's content for `bundle`, made after the runs it should cover. */
function codeCacheOf(bundle: CompiledBundle): Buffer {
  return Buffer.concat([Buffer.from(`${cacheHeader}${bundle.buildId}\n`, 'utf8'), bundle.script.createCachedData()]);
}

interface BundledCli<Exports> {
  exports: Exports;
  codeCache: CodeCacheState;
}

/** The CLI from `distDir`'s bundle, or undefined when the build made none (tsc alone). */
function loadBundledCli<Exports>(distDir: string): BundledCli<Exports> | undefined {
  const bundlePath = path.join(distDir, bundleFileName);
  const source = readIfPresent(bundlePath);
  if (!source) return undefined;
  const bundle = compileBundle(bundlePath, source.toString('utf8'), readIfPresent(path.join(distDir, cacheFileName)));
  return { exports: runBundle(bundle) as Exports, codeCache: bundle.codeCache };
}

export = { bundleFileName, cacheFileName, bundleHeader, cacheHeader, compileBundle, runBundle, codeCacheOf, loadBundledCli };

