// The bf16 variant of the native inference plan (issue 16): heatmaps within the stated tolerance of the fp32 plan's
// (2e-2 of their peak) for a random network; for the bundled LSP model on a sample image through createEstimator,
// joint scores (heatmap peaks) within that tolerance and keypoints within 2 px.
// Where oneDNN has no native bf16, createEstimator({ precision: 'bf16' }) is the clear error instead (names say which).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tf } from '../../src/tf.js';
import type { Tensor4D } from '../../src/tf.js';
import { HourglassModel } from '../../src/model/model.js';
import { createEstimator, toRaster, type Pose } from '../../src/api/estimator.js';
import { usePrecision } from '../../src/backend/precision.js';
import { nativeInferenceStats } from '../../src/backend/native/index.js';
import { SKIP_NATIVE, randomTensor, requireNative } from './native-parity.js';

/** The stated tolerance of bf16 inference: max |bf16 - fp32| over the fp32 heatmaps' largest |value|. */
export const BF16_HEATMAP_TOLERANCE = 2e-2;

const support = SKIP_NATIVE ? null : (await import('../../src/backend/native/precision.js')).bf16Support();
const HAS_BF16 = support?.native === true;
const REFUSED = `is refused on this CPU with a clear error (oneDNN dispatches ${support?.isa ?? '?'}, no native bf16)`;

function relativeError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let peak = 0;
  expected.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(actual[i] - v));
    peak = Math.max(peak, Math.abs(v));
  });
  return diff / peak;
}

/** Heatmaps of `model` through the native plan; bf16 with every convolution in bf16 unless `layers` is 'measured'. */
async function predictIn(precision: 'fp32' | 'bf16', model: HourglassModel, images: Tensor4D, layers: 'all' | 'measured' = 'all'): Promise<Float32Array> {
  await usePrecision(precision, 'native', layers);
  const before = nativeInferenceStats().runs;
  const y = model.predict(images);
  const out = Float32Array.from(y.dataSync());
  y.dispose();
  assert.equal(nativeInferenceStats().runs, before + 1, 'the native plan ran');
  return out;
}

test(HAS_BF16 ? `bf16 inference plan of a random network: heatmaps within ${BF16_HEATMAP_TOLERANCE} of fp32, convolutions in bf16` : `bf16 inference ${REFUSED}`, { skip: SKIP_NATIVE }, async () => {
  requireNative();
  await tf.setBackend('native');
  if (!HAS_BF16) {
    await assert.rejects(createEstimator({ backend: 'native', precision: 'bf16' }), /precision bf16 needs native bf16 instructions \(avx512_bf16 or amx_bf16\)/);
    return;
  }
  const model = HourglassModel.create({ stacks: 2, features: 32, modules: 1, joints: 5, inputSize: 64, depth: 2 }, 11);
  const images = randomTensor([2, 64, 64, 3], 12, 0, 1) as Tensor4D;
  try {
    const fp32 = await predictIn('fp32', model, images);
    const bf16 = await predictIn('bf16', model, images);
    const err = relativeError(bf16, fp32);
    assert.ok(err <= BF16_HEATMAP_TOLERANCE, `relative error ${err.toExponential(2)} > ${BF16_HEATMAP_TOLERANCE}`);
    assert.ok(err >= 1e-5, `bf16 heatmaps equal fp32 (${err.toExponential(2)}): bf16 did not run`);
    // Back in fp32 the plan is rebuilt in fp32: the same heatmaps as before, bit for bit.
    assert.deepEqual(await predictIn('fp32', model, images), fp32);
  } finally {
    images.dispose();
    model.dispose();
    await usePrecision('fp32', 'native');
  }
});

test(HAS_BF16 ? 'bf16 inference plan, measured layers: each convolution keeps bf16 or fp32, heatmaps within the tolerance, a rebuilt plan the same' : `bf16 inference (measured layers) ${REFUSED}`, { skip: SKIP_NATIVE }, async () => {
  requireNative();
  await tf.setBackend('native');
  if (!HAS_BF16) {
    await assert.rejects(usePrecision('bf16', 'native', 'measured'), /precision bf16 needs native bf16 instructions/);
    return;
  }
  const model = HourglassModel.create({ stacks: 1, features: 64, modules: 1, joints: 4, inputSize: 128, depth: 3 }, 21);
  const images = randomTensor([1, 128, 128, 3], 22, 0, 1) as Tensor4D;
  try {
    const fp32 = await predictIn('fp32', model, images);
    await predictIn('bf16', model, images, 'all'); // a plan in the other mode first: switching modes rebuilds it
    const measured = await predictIn('bf16', model, images, 'measured');
    const err = relativeError(measured, fp32);
    assert.ok(err <= BF16_HEATMAP_TOLERANCE, `relative error ${err.toExponential(2)} > ${BF16_HEATMAP_TOLERANCE}`);
    // Rebuilt (back through fp32) the plan takes the remembered choices: the same heatmaps, bit for bit.
    await predictIn('fp32', model, images);
    assert.deepEqual(await predictIn('bf16', model, images, 'measured'), measured);
  } finally {
    images.dispose();
    model.dispose();
    await usePrecision('fp32', 'native');
  }
});

test(HAS_BF16 ? `createEstimator({ precision: 'bf16' }) with the bundled LSP model on a sample image: peak scores within ${BF16_HEATMAP_TOLERANCE} of fp32, keypoints within 2 px` : `createEstimator({ precision: 'bf16' }) ${REFUSED}`, { skip: SKIP_NATIVE, timeout: 120_000 }, async () => {
  requireNative();
  if (!HAS_BF16) {
    await assert.rejects(createEstimator({ backend: 'native', precision: 'bf16' }), /precision bf16 needs native bf16 instructions/);
    return;
  }
  const image = await toRaster(join('samples', 'lspet-6132.jpg'));
  const poses: Pose[] = [];
  for (const precision of ['fp32', 'bf16'] as const) {
    // no person search: both precisions crop the same square (a detector's box would move with the precision)
    const estimator = await createEstimator({ backend: 'native', precision, detector: false });
    await usePrecision(precision, 'native', 'all'); // every convolution in bf16 (else only those measured faster)
    try {
      assert.equal(estimator.precision, precision);
      const runs = nativeInferenceStats().runs;
      poses.push(await estimator.estimatePose(image, { flipTest: false }));
      assert.ok(nativeInferenceStats().runs > runs, 'the native plan ran');
    } finally {
      estimator.dispose();
    }
  }
  await usePrecision('fp32', 'native');
  const peak = Math.max(...poses[0].keypoints.map((k) => k.score));
  let moved = 0;
  poses[0].keypoints.forEach((k, i) => {
    const b = poses[1].keypoints[i];
    // A heatmap peak is a heatmap value: the stated tolerance applies to it.
    assert.ok(Math.abs(k.score - b.score) <= BF16_HEATMAP_TOLERANCE * peak, `${k.name}: score fp32 ${k.score}, bf16 ${b.score}`);
    assert.ok(Math.hypot(k.x - b.x, k.y - b.y) <= 2, `${k.name}: fp32 (${k.x.toFixed(1)}, ${k.y.toFixed(1)}), bf16 (${b.x.toFixed(1)}, ${b.y.toFixed(1)})`);
    moved += Math.abs(k.score - b.score);
  });
  assert.ok(moved > 0, 'bf16 scores equal fp32: bf16 did not run');
});
