#!/usr/bin/env node
// The published entry point, CommonJS (bin/package.json): `npm run build` compiles src/ into
// dist/src and bundles it into dist/plexctl.cjs with V8's code cache, which starts in a fraction
// of the modules' time (src/bundle/load.cts says how); a build by tsc alone has no bundle, and
// then the modules run.
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
(bundled ? Promise.resolve(bundled.exports) : import('../dist/src/cli.js'))
  .then(({ main }) => main(process.argv))
  .then((code) => {
    process.exitCode = code;
  });
