#!/usr/bin/env node
// Shim into the compiled CLI (npm run build produces dist/).
import { main, processIo } from '../dist/src/cli/main.js';

main(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`internal error: ${err && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
