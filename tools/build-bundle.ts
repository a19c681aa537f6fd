/**
 * Build step after tsc (`npm run build`): bundles the compiled CLI (dist/src/cli.js and every
 * package it imports) into dist/plexctl.cjs with esbuild, then runs that bundle's `--help` and
 * `validate` on the demo inventory in this process and saves V8's code cache of it as
 * dist/plexctl.cache. bin/plexctl.js starts from the two (src/bundle/load.cts says why).
 *
 * The bundle is checked here, so that it cannot differ from the modules in what it does:
 * `import.meta.url` is rewritten per file to the file it came from (templates are found relative
 * to their module), any other `import.meta` or an import left outside the bundle but a Node
 * built-in fails the build, and the training runs must exit 0 with exactly the output the
 * modules in dist/src give for the same arguments.
 */
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import load from '../src/bundle/load.cjs';
import type { Io } from '../src/io.js';

const { bundleFileName, bundleHeader, inputsHeader, cacheFileName, codeCacheOf, compileBundle, runBundle } = load;
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const distDir = join(repoRoot, 'dist');
const bundlePath = join(distDir, bundleFileName);
const cachePath = join(distDir, cacheFileName);
const demoInventory = join(repoRoot, 'examples', 'demo', 'plex.yaml');

/** The file URL of `fromDist` (a path relative to dist/) at run time, as an expression in the bundle. */
const urlInDist = (fromDist: string) => `require('node:url').pathToFileURL(require('node:path').join(__dirname, ${JSON.stringify(fromDist)})).href`;

/** `import.meta.url` of each bundled file becomes the URL of that file, wherever dist/ is at run time. */
const importMetaPerFile: Plugin = {
  name: 'import-meta-url-per-file',
  setup(esbuild) {
    esbuild.onLoad({ filter: /\.[cm]?js$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      if (!source.includes('import.meta')) return undefined;
      const rewritten = source.replaceAll('import.meta.url', urlInDist(relative(distDir, path).split(sep).join('/')));
      if (rewritten.includes('import.meta')) throw new Error(`${path}: uses import.meta other than import.meta.url, which the bundle cannot give it`);
      return { contents: rewritten, loader: 'js' };
    });
  },
};

const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

async function writeAtomically(path: string, content: string | Buffer): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temp, content);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

function captureIo(): Io & { text: () => string } {
  let text = '';
  return { out: (t) => void (text += t), err: (t) => void (text += t), text: () => text };
}

type CliExports = { main(argv: string[], io: Io): Promise<number> };

/** The runs whose compiled code the cache holds: what a start most often does. */
const trainingRuns: string[][] = [['--help'], ['-i', demoInventory, 'validate']];

async function runCli(cli: CliExports, args: string[]): Promise<{ code: number; text: string }> {
  const io = captureIo();
  const code = await cli.main(['node', 'plexctl', ...args], io);
  return { code, text: io.text() };
}

async function main(): Promise<void> {
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: [join(distDir, 'src', 'cli.js')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    outfile: bundlePath,
    metafile: true,
    logLevel: 'warning',
    plugins: [importMetaPerFile],
  });
  const outside = Object.values(result.metafile.outputs).flatMap((output) => output.imports.filter((i) => i.external && !builtins.has(i.path)).map((i) => i.path));
  if (outside.length > 0) throw new Error(`the bundle would import from outside itself: ${[...new Set(outside)].join(', ')}`);
  const [output] = result.outputFiles;
  if (!output || result.outputFiles.length !== 1) throw new Error(`esbuild made ${result.outputFiles.length} files, not one`);

  // plexctl's own modules in the bundle, so that a start can tell when dist/src is newer.
  const inputs = Object.keys(result.metafile.inputs)
    .map((input) => relative(distDir, resolve(repoRoot, input)).split(sep).join('/'))
    .filter((input) => input.startsWith('src/'))
    .sort();
  // Comments only: code before esbuild's "use strict" would make the whole bundle sloppy mode.
  const source = Buffer.from(`${bundleHeader}\n${inputsHeader}${JSON.stringify(inputs)}\n${output.text}`, 'utf8');

  const bundle = compileBundle(bundlePath, source, 'absent');
  const bundled = runBundle(bundle) as CliExports;
  const modules = (await import(pathToFileURL(join(distDir, 'src', 'cli.js')).href)) as CliExports;
  for (const args of trainingRuns) {
    const [fromBundle, fromModules] = [await runCli(bundled, args), await runCli(modules, args)];
    if (fromBundle.code !== 0 || fromBundle.code !== fromModules.code || fromBundle.text !== fromModules.text) {
      throw new Error(`the bundle's \`plexctl ${args.join(' ')}\` (exit ${fromBundle.code}) differs from the modules' (exit ${fromModules.code}):\n${fromBundle.text}\n---\n${fromModules.text}`);
    }
  }
  // The bundle first: a cache left from the build before names another size and time, and is not used.
  await writeAtomically(bundlePath, source);
  await writeAtomically(cachePath, codeCacheOf(bundle, await stat(bundlePath, { bigint: true })));
}

main().catch((error: unknown) => {
  process.stderr.write(`build-bundle: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
