#!/usr/bin/env node
// Builds the native oneDNN addon (native/binding.gyp) with npm's node-gyp. Run by `npm install` and `npm run build:native`.
// If oneDNN or a compiler is missing it prints one line on how to get the native backend and exits 0 (the package
// still works on wasm/cpu), unless HOURGLASS_REQUIRE_NATIVE=1, when it fails. --verbose shows the compiler output.
// npm hides an install script's output, so that line also goes to the terminal (/dev/tty) when there is one, and
// the log's first line keeps it for the runtime message (src/backend/native/addon.ts) that says why native is unused.
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const verbose = process.argv.includes('--verbose');
const required = process.env.HOURGLASS_REQUIRE_NATIVE === '1';
// In a user's project (this package under node_modules/) the rebuild is `npm rebuild hourglass`; as addon.ts says it.
const installed = root.split(/[\\/]/).includes('node_modules');
const HOW = `apt-get install libdnnl-dev g++, then ${installed ? 'npm rebuild hourglass' : 'npm run build:native'}`;
const logFile = join(root, 'native', 'build-native.log');

/** Prints a line where the user sees it: stdout, and the terminal itself when npm captures stdout. */
function tell(line) {
  console.log(line);
  if (process.env.npm_lifecycle_event !== 'install') return;
  try {
    const tty = openSync('/dev/tty', 'w');
    writeSync(tty, `\n${line}\n`); // on a line of its own, after npm's progress spinner
    closeSync(tty);
  } catch {
    // no terminal (CI, Windows): the line is in the log and in the runtime message
  }
}

/** node-gyp: the one npm runs scripts with, a local install, or the copy bundled with npm next to this node. */
function findNodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally
  }
  const prefix = dirname(dirname(process.execPath));
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((p) => p && existsSync(p)) ?? null;
}

function fail(why, log) {
  mkdirSync(dirname(logFile), { recursive: true });
  writeFileSync(logFile, `${why}\n${log ?? ''}`);
  tell(`hourglass: native backend not built (${why}; log: ${logFile}); the package works on the slower wasm backend; to get native: ${HOW}`);
  process.exit(required ? 1 : 0);
}

const nodeGyp = findNodeGyp();
if (!nodeGyp) fail('node-gyp not found');

const args = [nodeGyp, 'rebuild', '--directory', join(root, 'native')];
// Use the installed Node headers when present, so no download is needed.
const prefix = dirname(dirname(process.execPath));
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

mkdirSync(join(root, 'native'), { recursive: true });
const run = spawnSync(process.execPath, args, {
  cwd: root,
  stdio: verbose ? 'inherit' : 'pipe',
  encoding: 'utf8',
});
if (run.status !== 0) {
  const log = verbose ? null : `${run.stdout ?? ''}\n${run.stderr ?? ''}`;
  const missingDnnl = log !== null && /dnnl\.hpp|-ldnnl/.test(log);
  const missingCompiler = log !== null && /(g\+\+|c\+\+|make): (not found|command not found)|not found: make|No such file or directory: '[^']*(g\+\+|c\+\+|cc)'/.test(log);
  fail(missingDnnl ? 'oneDNN (libdnnl-dev) missing' : missingCompiler ? 'C++ compiler or make missing' : 'build failed', log);
}
rmSync(logFile, { force: true });
const addon = join(root, 'native', 'build', 'Release', 'hourglass_native.node');
if (verbose || required) console.log(`hourglass: native backend built (${addon})`);
