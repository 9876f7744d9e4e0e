// The bundled FLIC model (models/flic.ckpt) by name, through the library and `hourglass eval`: it loads with the FLIC
// skeleton and finds the upper-body joints of the committed FLIC fixture people (test-split frames it never
// trained on), given their annotated crop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEstimator } from '../../src/api/estimator.js';
import { BUNDLED_MODELS, bundledModelFor, modelSpecPaths, resolveModelPath } from '../../src/api/models.js';
import { readDataset } from '../../src/data/readers/index.js';
import { FLIC11 } from '../../src/data/skeletons/flic.js';
import { main } from '../../src/cli/main.js';
import { captureIo } from '../cli/capture.js';
import { FIXTURES } from '../data/paths.js';

/** PCK@0.2 the FLIC model must reach on the 3 fixture people (33 joints); the 256-px model (epoch 32 of training/flic256)
 * and the 128-px one before it both measured 100% (33 of 33). */
const MIN_FIXTURE_PCK = 85;

test('bundled models are found by name; a path wins over a name; a bundled model is picked by skeleton', () => {
  assert.deepEqual(BUNDLED_MODELS.map((m) => m.name), ['lsp14', 'flic', 'lsp14-256', 'lsp14-ensemble']);
  assert.ok(resolveModelPath('flic').endsWith(join('models', 'flic.ckpt')));
  assert.ok(resolveModelPath().endsWith(join('models', 'lsp14.ckpt')));
  assert.equal(resolveModelPath('runs/x/best.ckpt'), 'runs/x/best.ckpt');
  assert.equal(bundledModelFor('flic11')?.name, 'flic');
  assert.equal(bundledModelFor('mpii16'), undefined);
  assert.equal(bundledModelFor('lsp14')?.name, 'lsp14', 'the default comes first among the LSP-14 models');
});

test('a bundled ensemble names its members: their files as a model spec, an error where one network is meant', () => {
  const lsp14 = resolveModelPath('lsp14');
  const large = resolveModelPath('lsp14-256');
  assert.ok(large.endsWith(join('models', 'lsp14-256.ckpt')));
  assert.deepEqual(modelSpecPaths('lsp14-ensemble'), [lsp14, large]);
  assert.deepEqual(modelSpecPaths('lsp14-ensemble,flic'), [lsp14, large, resolveModelPath('flic')]);
  assert.throws(() => modelSpecPaths('lsp14-ensemble,lsp14-ensemble,flic'), /at most 4 networks in an ensemble, got 5/);
  assert.throws(() => resolveModelPath('lsp14-ensemble'), /'lsp14-ensemble' is a bundled ensemble of lsp14, lsp14-256, not one network/);
});

test('the bundled FLIC model finds the joints of the fixture people', async () => {
  const estimator = await createEstimator({ model: 'flic' });
  try {
    assert.deepEqual(estimator.skeleton.joints, FLIC11.joints);
    const ds = await readDataset({ format: 'flic', root: join(FIXTURES, 'flic'), split: 'valid' });
    let hits = 0;
    let counted = 0;
    for (const s of ds.samples) {
      // The annotated crop (a square of 200 x scale around center) as a box: the estimator adds its 1.25 margin.
      const side = (200 * s.scale) / 1.25;
      const box = { x: s.center[0] - (side - 1) / 2, y: s.center[1] - (side - 1) / 2, width: side, height: side };
      const pose = await estimator.estimatePose(s.imagePath, { box });
      pose.keypoints.forEach((p, k) => {
        if (!s.visible[k]) return;
        counted++;
        if (Math.hypot(p.x - s.joints[2 * k], p.y - s.joints[2 * k + 1]) <= 0.2 * (s.normalize as number)) hits++;
      });
    }
    assert.equal(counted, 33);
    const pck = (100 * hits) / counted;
    assert.ok(pck >= MIN_FIXTURE_PCK, `bundled FLIC model PCK@0.2 on the fixtures ${pck.toFixed(1)}% < ${MIN_FIXTURE_PCK}%`);
  } finally {
    estimator.dispose();
  }
});

test('eval --dataset flic without --model scores the bundled FLIC model', async () => {
  // Run from a folder holding a file named 'flic': with no --model, the bundled model is meant, not that file.
  const cwd = process.cwd();
  const here = mkdtempSync(join(tmpdir(), 'hg-flic-'));
  writeFileSync(join(here, 'flic'), 'not a checkpoint');
  const io = captureIo();
  process.chdir(here);
  try {
    assert.equal(await main(['eval', '--dataset', 'flic', '--root', join(FIXTURES, 'flic'), '--json'], io), 0, io.errors.join('\n'));
  } finally {
    process.chdir(cwd);
  }
  const r = JSON.parse(io.lines[0]) as { protocol: string; mean: number; perJoint: Record<string, number>; count: number };
  assert.equal(r.protocol, 'PCK@0.2');
  assert.deepEqual(Object.keys(r.perJoint).sort(), [...FLIC11.joints].sort());
  assert.equal(r.count, 33);
  assert.ok(r.mean >= MIN_FIXTURE_PCK, `eval mean ${r.mean}`);
});
