#!/usr/bin/env node
// The published entry point, CommonJS (bin/package.json): `npm run build` compiles src/ into
// dist/src and bundles it into dist/plexctl.cjs with V8's code cache, which starts in a fraction
// of the modules' time (src/bundle/load.cts says how). Without a bundle (tsc alone), or with one
// older than the modules it was made from, the modules in dist/src run.
'use strict';
const { join } = require('node:path');
const { loadBundledCli } = require('../dist/src/bundle/load.cjs');

// A closed pipe (`plexctl plan | head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

const bundled = loadBundledCli(join(__dirname, '..', 'dist'));
if (bundled.kind === 'stale' || bundled.kind === 'unknown') {
  const why = bundled.kind === 'stale' ? `is older than dist/${bundled.newer}` : 'is not a bundle this plexctl knows';
  process.stderr.write(`plexctl: note: dist/plexctl.cjs ${why}, so the modules in dist/src run (slower to start); npm run build makes the bundle again\n`);
}
// PLEXCTL_STARTUP_REPORT=1: say how this run started (the tests and the benchmark check it).
if (process.env.PLEXCTL_STARTUP_REPORT === '1') {
  process.stderr.write(`plexctl-startup: ${bundled.kind === 'bundle' ? `bundle, code cache ${bundled.codeCache}` : `modules (${bundled.kind === 'none' ? 'no' : bundled.kind} bundle)`}\n`);
}

// As a top-level await did: a command that never settles exits 13, a rejection exits 1.
let settled = false;
process.on('exit', (code) => {
  if (!settled && code === 0) {
    process.stderr.write('plexctl: exited before the command finished\n');
    process.exitCode = 13;
  }
});
(bundled.kind === 'bundle' ? Promise.resolve(bundled.exports) : import('../dist/src/cli.js'))
  .then(({ main }) => main(process.argv))
  .then(
    (code) => {
      settled = true;
      process.exitCode = code;
    },
    (error) => {
      settled = true;
      process.stderr.write(`plexctl: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
