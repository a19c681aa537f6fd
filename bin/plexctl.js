#!/usr/bin/env node
// The published entry point: the compiled CLI lives in dist/ (npm run build).
import { main } from '../dist/src/cli.js';

// A closed pipe (`plexctl plan | head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
  });
}
process.exitCode = await main(process.argv);
