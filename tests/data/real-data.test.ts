// Optional checks on the real datasets in ../shared/data (HOURGLASS_DATA overrides); skipped with a reason when absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readDataset, readPredictionsH5 } from '../../src/data/readers/index.js';
import { DATA } from './paths.js';

function needs(...parts: string[]): { skip: string } | { skip?: undefined } {
  const path = join(DATA, ...parts);
  return existsSync(path) ? {} : { skip: `real data not found at ${path}` };
}

test('real LSPET: 10000 records, the first 7000 images present', needs('lspet', 'joints.mat'), async () => {
  const all = await readDataset({ format: 'lsp', root: join(DATA, 'lspet') });
  assert.equal(all.name, 'lspet');
  assert.equal(all.samples.length, 10000);
  const present = await readDataset({ format: 'lsp', root: join(DATA, 'lspet'), checkImages: 'skip' });
  assert.equal(present.samples.length, 7000);
  assert.equal(present.samples.at(-1)!.index, 7000);
});

test('real LSP: 2000 records, every joint labelled', needs('lsp', 'joints.mat'), async () => {
  const d = await readDataset({ format: 'lsp', root: join(DATA, 'lsp') });
  assert.equal(d.name, 'lsp');
  assert.equal(d.samples.length, 2000);
  assert.ok(d.samples.every((s) => s.visible.every((v) => v === 1)));
});

test('real MPII valid: 2958 people, predictions of the same shape', needs('mpii', 'valid.h5'), async () => {
  const d = await readDataset({ format: 'mpii', root: join(DATA, 'mpii') });
  assert.equal(d.samples.length, 2958);
  const p = await readPredictionsH5(join(DATA, 'mpii', 'valid-ours.h5'));
  assert.deepEqual([p.count, p.numJoints], [2958, 16]);
});

test('real FLIC: train 3987, valid 1016, all images present', needs('flic', 'train.h5'), async () => {
  const train = await readDataset({ format: 'flic', root: join(DATA, 'flic'), split: 'train', checkImages: 'require' });
  const valid = await readDataset({ format: 'flic', root: join(DATA, 'flic'), split: 'valid', checkImages: 'require' });
  assert.deepEqual([train.samples.length, valid.samples.length], [3987, 1016]);
});
