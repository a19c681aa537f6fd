/**
 * Build step after tsc (`npm run build`): bundles the compiled CLI (dist/src/cli.js and every
 * package it imports) into dist/plexctl.cjs with esbuild, then runs that bundle's `--help` and
 * `validate` on the demo inventory in this process and saves V8's code cache of it as
 * dist/plexctl.cache. bin/plexctl.js starts from the two (src/bundle/load.ts says why).
 *
 * The bundle is checked here, so that it cannot differ from the modules in what it does:
 * `import.meta.url` is rewritten per file to the file it came from (templates are found relative
 * to their module), any other `import.meta` or an import left outside the bundle but a Node
 * built-in fails the build, and the training runs must exit 0 with the output they give unbundled.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import load from '../src/bundle/load.cjs';
import type { Io } from '../src/io.js';

const { bundleFileName, bundleHeader, cacheFileName, codeCacheOf, compileBundle, runBundle } = load;
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
const trainingRuns: { args: string[]; expect: RegExp }[] = [
  { args: ['--help'], expect: /^Usage: plexctl / },
  { args: ['-i', demoInventory, 'validate'], expect: /: valid \(/ },
];

async function main(): Promise<void> {
  const buildId = randomBytes(12).toString('hex');
  const result = await build({
    entryPoints: [join(distDir, 'src', 'cli.js')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    outfile: bundlePath,
    metafile: true,
    logLevel: 'warning',
    // A comment only: code before esbuild's "use strict" would make the whole bundle sloppy mode.
    banner: { js: `${bundleHeader}${buildId}` },
    plugins: [importMetaPerFile],
  });
  const outside = Object.values(result.metafile.outputs).flatMap((output) => output.imports.filter((i) => i.external && !builtins.has(i.path)).map((i) => i.path));
  if (outside.length > 0) throw new Error(`the bundle would import from outside itself: ${[...new Set(outside)].join(', ')}`);
  const [output] = result.outputFiles;
  if (!output || result.outputFiles.length !== 1) throw new Error(`esbuild made ${result.outputFiles.length} files, not one`);

  const bundle = compileBundle(bundlePath, output.text, undefined);
  const { main: cliMain } = runBundle(bundle) as CliExports;
  for (const run of trainingRuns) {
    const io = captureIo();
    const code = await cliMain(['node', 'plexctl', ...run.args], io);
    if (code !== 0 || !run.expect.test(io.text())) throw new Error(`the bundle's \`plexctl ${run.args.join(' ')}\` exited ${code}:\n${io.text()}`);
  }
  // The bundle first: a cache left from the build before names another id and is ignored.
  await writeAtomically(bundlePath, output.text);
  await writeAtomically(cachePath, codeCacheOf(bundle));
}

main().catch((error: unknown) => {
  process.stderr.write(`build-bundle: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
