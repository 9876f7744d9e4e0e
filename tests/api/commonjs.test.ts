// A CommonJS caller: require('hourglass') and require('hourglass/internals') give the two entries where Node can
// require() an ES module, and otherwise an error that says the package is ESM and how to import it (cjs/index.cjs,
// cjs/internals.cjs: the package's "require" exports).
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
  assert.equal(run.stdout.trim(), 'function lsp14,flic,lsp14-256,lsp14-ensemble');
});

test('require(\'hourglass/internals\') gives the internals entry', () => {
  const run = spawnSync(process.execPath, ['-e', "const h = require('hourglass/internals'); console.log(typeof h.heatmapLoss, typeof h.ParamStore, 'createEstimator' in h)"],
    { cwd: project(), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'function function false');
});

test('where it cannot, the error says the package is ESM and how to import it', () => {
  const run = spawnSync(process.execPath, ['--no-experimental-require-module', '-e', "require('hourglass')"], { cwd: project(), encoding: 'utf8' });
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /hourglass is an ES module package and this Node cannot require\(\) it: use import \{ createEstimator \} from 'hourglass'.*await import\('hourglass'\)/);
});

test('where it cannot, require(\'hourglass/internals\') says so too, naming that entry', () => {
  const run = spawnSync(process.execPath, ['--no-experimental-require-module', '-e', "require('hourglass/internals')"], { cwd: project(), encoding: 'utf8' });
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /hourglass is an ES module package and this Node cannot require\(\) it: use import \{ heatmapLoss \} from 'hourglass\/internals'.*await import\('hourglass\/internals'\)/);
});
