// A CommonJS caller: require('hourglass') gives the API where Node can require() an ES module, and otherwise an
// error that says the package is ESM and how to import it (cjs/index.cjs, the package's "require" export).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../data/paths.js';

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hg-cjs-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(REPO, join(dir, 'node_modules', 'hourglass'), 'dir');
  return dir;
}

test('require(\'hourglass\') works where Node can require an ES module', () => {
  const run = spawnSync(process.execPath, ['-e', "const h = require('hourglass'); console.log(typeof h.createEstimator, h.BUNDLED_MODELS.map((m) => m.name).join(','))"],
    { cwd: project(), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'function lsp14,flic');
});

test('where it cannot, the error says the package is ESM and how to import it', () => {
  const run = spawnSync(process.execPath, ['--no-experimental-require-module', '-e', "require('hourglass')"], { cwd: project(), encoding: 'utf8' });
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /hourglass is an ES module package and this Node cannot require\(\) it: use import \{ createEstimator \} from 'hourglass'.*await import\('hourglass'\)/);
});
