// Parity of the native fused heatmap loss (ops().heatmapLoss, one kernel per stack and a one-pass backward) with
// the portable composition (squaredDifference, mul, mean, addN) on the cpu backend: value, gradients, no leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import type { Tensor, Tensor2D, Tensor4D } from '../../src/tf.js';
import { ops } from '../../src/model/ops.js';
import { heatmapLoss } from '../../src/train/loss.js';
import { nativeKernelCalls } from '../../src/backend/native/index.js';
import { SKIP_NATIVE, assertParity, randomArray, randomTensor, requireNative } from './native-parity.js';

const LOSS_RTOL = 1e-5;
const GRAD_RTOL = 1e-4;
const LOSS_KERNEL = 'HourglassHeatmapLoss';
const GRAD_KERNEL = 'HourglassHeatmapLossGrad';

type Shape = [number, number, number, number];
// Batch 1 and > 1, odd heatmap sizes, K = 1 and 16, 1 and 2 stacks; the last is the small config's (16 x 32 x 32 x 16)
// and takes the kernels' multi-threaded path.
const CASES: { shape: Shape; stacks: number }[] = [
  { shape: [1, 7, 5, 1], stacks: 1 },
  { shape: [1, 7, 5, 16], stacks: 2 },
  { shape: [3, 7, 5, 16], stacks: 1 },
  { shape: [4, 5, 7, 1], stacks: 2 },
  { shape: [2, 9, 11, 3], stacks: 2 },
  { shape: [16, 32, 32, 16], stacks: 2 },
];

/** Weights [N, K]: every third one 0 (a masked joint; never the first, so N = K = 1 is not all zero), else 1 or a fraction. */
function randomWeights(n: number, k: number, seed: number): Tensor2D {
  const r = randomArray(n * k, seed, 0, 1);
  return tf.tensor2d(r.map((v, i) => (i % 3 === 1 ? 0 : v < 0.5 ? 1 : v)), [n, k]);
}

/** Per-stack predictions, targets and weights for one case (built on the active backend). */
function inputs(shape: Shape, stacks: number, seed: number): { preds: Tensor4D[]; targets: Tensor4D; weights: Tensor2D } {
  const preds = Array.from({ length: stacks }, (_, s) => randomTensor(shape, seed + s, -0.2, 1.2) as Tensor4D);
  return { preds, targets: randomTensor(shape, seed + 10, 0, 1) as Tensor4D, weights: randomWeights(shape[0], shape[3], seed + 20) };
}

test('native heatmap loss matches the portable composition on cpu', { skip: SKIP_NATIVE }, async () => {
  for (const [i, { shape, stacks }] of CASES.entries()) {
    await assertParity(`heatmapLoss ${shape} x${stacks}`, () => {
      const { preds, targets, weights } = inputs(shape, stacks, 100 * i);
      return [heatmapLoss(preds, targets, weights)];
    }, [LOSS_KERNEL], LOSS_RTOL);
  }
});

test('native heatmap loss gradients (predictions, targets, weights) match cpu', { skip: SKIP_NATIVE }, async () => {
  for (const [i, { shape, stacks }] of CASES.entries()) {
    await assertParity(`heatmapLoss gradients ${shape} x${stacks}`, () => {
      const { preds, targets, weights } = inputs(shape, stacks, 100 * i + 1);
      // dy = 3.7, not 1: the backward must scale by the incoming gradient.
      const f = (...xs: Tensor[]) => tf.mul(ops().heatmapLoss(xs.slice(0, stacks) as Tensor4D[], xs[stacks] as Tensor4D, xs[stacks + 1] as Tensor2D), 3.7);
      return tf.grads(f)([...preds, targets, weights]);
    }, [GRAD_KERNEL], GRAD_RTOL);
  }
});

test('native heatmap loss and its gradient leave no tensors behind', { skip: SKIP_NATIVE }, async () => {
  requireNative();
  await tf.setBackend('native');
  try {
    const { preds, targets, weights } = inputs([4, 9, 7, 16], 2, 7);
    const variables = preds.map((p, s) => tf.variable(p, true, `lossLeak${s}`));
    const before = tf.memory().numTensors;
    const gradCalls = nativeKernelCalls(GRAD_KERNEL);
    tf.tidy(() => {
      // As in training: gradients to variables only (the targets' and weights' are never computed).
      const { value, grads } = tf.variableGrads(() => heatmapLoss(variables as Tensor[] as Tensor4D[], targets, weights), variables);
      value.dataSync();
      Object.values(grads).forEach((g) => g.dataSync());
      // And to every input, through the lazy targets and weights gradients.
      const all = tf.valueAndGrads((...xs: Tensor[]) => heatmapLoss(xs.slice(0, 2) as Tensor4D[], xs[2] as Tensor4D, xs[3] as Tensor2D));
      const r = all([...preds, targets, weights]);
      r.value.dataSync();
      r.grads.forEach((g) => g.dataSync());
    });
    assert.equal(tf.memory().numTensors, before, 'tensors leaked by a tidy loss + gradient');
    assert.equal(nativeKernelCalls(GRAD_KERNEL), gradCalls + 4, 'one native backward per stack and per gradient call');
    tf.dispose([...preds, targets, weights, ...variables]);
  } finally {
    await tf.setBackend('cpu');
  }
});

test('native heatmap loss casts integer weights and rejects mismatched shapes', { skip: SKIP_NATIVE }, async () => {
  requireNative();
  await tf.setBackend('native');
  try {
    tf.tidy(() => {
      const { preds, targets } = inputs([2, 5, 3, 4], 1, 9);
      const mask = [[1, 0, 1, 1], [0, 1, 1, 0]];
      const asInt = heatmapLoss(preds, targets, tf.tensor2d(mask, [2, 4], 'int32')).dataSync()[0];
      const asFloat = heatmapLoss(preds, targets, tf.tensor2d(mask, [2, 4])).dataSync()[0];
      assert.equal(asInt, asFloat);
      assert.throws(() => heatmapLoss([tf.zeros([2, 5, 3, 3]) as Tensor4D], targets, tf.ones([2, 4]) as Tensor2D), /pred and targets/);
      assert.throws(() => heatmapLoss(preds, targets, tf.ones([2, 3]) as Tensor2D), /weights must be float32 \[2, 4\]/);
    });
  } finally {
    await tf.setBackend('cpu');
  }
});
