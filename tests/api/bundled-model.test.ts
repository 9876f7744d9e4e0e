// The bundled model (models/lsp14.ckpt) through the public API: it loads with its skeleton, and on the committed
// LSPET fixture images (given their joints' box, as evaluation crops them) it finds the joints about as well as its
// model card says; and on the sample images (validation images it never trained on, annotations in samples/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createEstimator, DEFAULT_MODEL_PATH, type EstimateOptions, type Estimator } from '../../src/api/estimator.js';
import { readDataset } from '../../src/data/readers/index.js';
import { LSP14, LSP_TORSO } from '../../src/data/skeletons/lsp.js';
import { SAMPLES_DIR, sampleImages } from '../../src/cli/commands/predict.js';
import { FIXTURES } from '../data/paths.js';

/** PCK@0.2 the bundled model must reach on the 12 fixture images and the 4 samples: it measured 83.2% (125 joints) and 76.8% (56 joints) (epoch 23 of training/lsp14-s4, 4 stacks, float16 file); raise with each better model. */
const MIN_FIXTURE_PCK = 77;
const MIN_SAMPLE_PCK = 70;
/** The multi-scale test docs/evaluation.md measures (68.32% against 67.62% on LSPET 6001–7000, 68.08% against 67.32% with the quarter-pixel decoding); on the fixtures it measured 84.0% (83.2% without), both with the quarter-pixel decoding. */
const MULTI_SCALES = [0.8, 0.9, 1, 1.1, 1.2];

/** PCK@0.2 of the estimator on the 12 fixture images, each given its joints' box (as evaluation crops them). */
async function fixturePck(estimator: Estimator, options: EstimateOptions = {}): Promise<{ pck: number; counted: number }> {
  const ds = await readDataset({ format: 'lspet', root: join(FIXTURES, 'lspet') });
  let hits = 0;
  let counted = 0;
  for (const s of ds.samples) {
    const [a, b] = LSP_TORSO;
    if (!s.visible[a] || !s.visible[b]) continue;
    const torso = Math.hypot(s.joints[2 * a] - s.joints[2 * b], s.joints[2 * a + 1] - s.joints[2 * b + 1]);
    // The joints' box: the estimator adds the same 1.25 margin the training crops had.
    const xs = [...s.visible.keys()].filter((k) => s.visible[k]).map((k) => s.joints[2 * k]);
    const ys = [...s.visible.keys()].filter((k) => s.visible[k]).map((k) => s.joints[2 * k + 1]);
    const box = { x: Math.min(...xs), y: Math.min(...ys), width: Math.max(...xs) - Math.min(...xs) + 1, height: Math.max(...ys) - Math.min(...ys) + 1 };
    const pose = await estimator.estimatePose(s.imagePath, { ...options, box });
    pose.keypoints.forEach((p, k) => {
      if (!s.visible[k]) return;
      counted++;
      if (Math.hypot(p.x - s.joints[2 * k], p.y - s.joints[2 * k + 1]) <= 0.2 * torso) hits++;
    });
  }
  return { pck: (100 * hits) / counted, counted };
}

test('the bundled LSP-14 model loads with its skeleton and finds the joints of the fixture images', async () => {
  const estimator = await createEstimator();
  try {
    assert.equal(estimator.skeleton.id, LSP14.id);
    assert.deepEqual(estimator.skeleton.joints, LSP14.joints);
    assert.ok(DEFAULT_MODEL_PATH.endsWith(join('models', 'lsp14.ckpt')));
    const { pck, counted } = await fixturePck(estimator);
    assert.ok(counted > 100, `${counted} joints counted`);
    assert.ok(pck >= MIN_FIXTURE_PCK, `bundled model PCK@0.2 on the fixtures ${pck.toFixed(1)}% < ${MIN_FIXTURE_PCK}%`);
    const multi = await fixturePck(estimator, { scales: MULTI_SCALES });
    assert.ok(multi.pck >= MIN_FIXTURE_PCK, `bundled model with scales ${MULTI_SCALES}: PCK@0.2 on the fixtures ${multi.pck.toFixed(1)}% < ${MIN_FIXTURE_PCK}%`);
  } finally {
    estimator.dispose();
  }
});

/**
 * The other bundled LSP-14 models (docs/models/lsp14-256.md), by name: PCK@0.2 they must reach on the fixtures (given
 * the joints' box) and on the samples (no box, person search). Measured on 2026-12-07 (float16 files): lsp14-256
 * 84.0% (125 joints) and 73.2% (56 joints), lsp14-ensemble 84.8% and 76.8% (lsp14 in the same run: 84.8% and 76.8%).
 */
const OTHER_LSP14_MODELS: [name: string, minFixture: number, minSample: number][] = [
  ['lsp14-256', 78, 66],
  ['lsp14-ensemble', 78, 70],
];

for (const [name, minFixture, minSample] of OTHER_LSP14_MODELS) {
  test(`the bundled ${name} model finds the joints of the fixture images and the samples`, async () => {
    const estimator = await createEstimator({ model: name });
    try {
      assert.deepEqual(estimator.skeleton.joints, LSP14.joints);
      const { pck } = await fixturePck(estimator);
      assert.ok(pck >= minFixture, `${name} PCK@0.2 on the fixtures ${pck.toFixed(1)}% < ${minFixture}%`);
      const samples = await samplePck(estimator);
      assert.ok(samples >= minSample, `${name} PCK@0.2 on the samples ${samples.toFixed(1)}% < ${minSample}%`);
    } finally {
      estimator.dispose();
    }
  });
}

/** PCK@0.2 of the estimator on the sample images, run as `hourglass predict` runs them (no box). */
async function samplePck(estimator: Estimator): Promise<number> {
  const truth = JSON.parse(readFileSync(join(SAMPLES_DIR, 'annotations.json'), 'utf8')) as { images: Record<string, { joints: ([number, number] | null)[] }> };
  const images = sampleImages();
  assert.deepEqual(images.map((i) => basename(i)).sort(), Object.keys(truth.images).sort());
  let hits = 0;
  let counted = 0;
  for (const image of images) {
    const joints = truth.images[basename(image)].joints;
    const [a, b] = LSP_TORSO;
    const torso = Math.hypot(joints[a]![0] - joints[b]![0], joints[a]![1] - joints[b]![1]);
    const pose = await estimator.estimatePose(image);
    pose.keypoints.forEach((p, k) => {
      const t = joints[k];
      if (!t) return;
      counted++;
      if (Math.hypot(p.x - t[0], p.y - t[1]) <= 0.2 * torso) hits++;
    });
  }
  return (100 * hits) / counted;
}

test('on the sample images (validation images it never trained on) the bundled model finds most joints', async () => {
  const estimator = await createEstimator();
  try {
    // As `hourglass predict` runs: no box, the person search.
    const pck = await samplePck(estimator);
    assert.ok(pck >= MIN_SAMPLE_PCK, `bundled model PCK@0.2 on the samples ${pck.toFixed(1)}% < ${MIN_SAMPLE_PCK}%`);
  } finally {
    estimator.dispose();
  }
});
