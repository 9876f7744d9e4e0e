// The training loss (src/train/loss.ts): its value and gradients by hand on a tiny case, on cpu and on native; the
// same on native as on the cpu reference for random cases (native runs the loss's TF.js ops through its own
// element-wise and reduction kernels); no leaks; masks of either dtype; shapes checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import type { Tensor, Tensor2D, Tensor4D } from '../../src/tf.js';
import { heatmapLoss } from '../../src/train/loss.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { nativeKernelCalls } from '../../src/backend/native/index.js';
import { SKIP_NATIVE, assertParity, randomArray, randomTensor, requireNative } from '../backend/native-parity.js';

const LOSS_RTOL = 1e-5;
const GRAD_RTOL = 1e-4;
/** Native kernels the loss must run through on native (no silent fallback to the cpu backend's). */
const LOSS_KERNELS = ['SquaredDifference', 'Multiply'];
/** A kernel of its backward only (TF.js's gradient of squaredDifference is 2 dy (pred - target)). */
const GRAD_KERNEL = 'Sub';

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

/**
 * Two stacks on [N=2, h=1, w=2, K=2], joint 1 of sample 1 masked: the loss and its gradient written out by hand.
 * loss = sum over stacks of sum w[n,k] (p - t)^2 / 8; d loss / d p = 2 w[n,k] (p - t) / 8.
 */
async function assertHandMade(backend: string): Promise<void> {
  const previous: string | undefined = tf.getBackend(); // undefined before any backend was set
  await tf.setBackend(backend);
  try {
    tf.tidy(() => {
      const p0 = [0.5, -1, 2, 0, 1, 1, 0.25, 3];
      const p1 = [0, 0, 1, 1, -1, 2, 0.5, 0.5];
      const t = [1, 0, 0, 0, 0.5, 1, 0, 1];
      const w = [1, 1, 1, 0]; // [n][k]: sample 1's joint 1 masked
      const weightOf = (i: number) => w[Math.floor(i / 4) * 2 + (i % 2)]; // NHWC index -> w[n, k]
      const expected = [p0, p1].reduce((sum, p) => sum + p.reduce((s, v, i) => s + weightOf(i) * (v - t[i]) ** 2, 0) / 8, 0);
      const preds = [p0, p1].map((p) => tf.tensor4d(p, [2, 1, 2, 2]));
      const targets = tf.tensor4d(t, [2, 1, 2, 2]);
      const weights = tf.tensor2d(w, [2, 2]);
      const { value, grads } = tf.valueAndGrads((...xs: Tensor[]) => heatmapLoss(xs as Tensor4D[], targets, weights))(preds);
      assert.ok(Math.abs(value.dataSync()[0] - expected) <= 1e-6 * expected, `${backend}: loss ${value.dataSync()[0]}, expected ${expected}`);
      [p0, p1].forEach((p, s) => {
        const g = grads[s].dataSync();
        p.forEach((v, i) => assert.ok(Math.abs(g[i] - (2 * weightOf(i) * (v - t[i])) / 8) <= 1e-6, `${backend}: gradient of stack ${s} at ${i}: ${g[i]}`));
      });
    });
  } finally {
    await tf.setBackend(previous ?? 'cpu');
  }
}

test('heatmap loss and its gradient, by hand, on cpu', async () => {
  await assertHandMade('cpu');
});

test('heatmap loss and its gradient, by hand, on native', { skip: SKIP_NATIVE }, async () => {
  requireNative();
  await assertHandMade('native');
});

test('heatmap loss on native matches the cpu reference', { skip: SKIP_NATIVE }, async () => {
  for (const [i, { shape, stacks }] of CASES.entries()) {
    await assertParity(`heatmapLoss ${shape} x${stacks}`, () => {
      const { preds, targets, weights } = inputs(shape, stacks, 100 * i);
      return [heatmapLoss(preds, targets, weights)];
    }, LOSS_KERNELS, LOSS_RTOL);
  }
});

test('heatmap loss gradients (predictions, targets, weights) on native match cpu', { skip: SKIP_NATIVE }, async () => {
  for (const [i, { shape, stacks }] of CASES.entries()) {
    await assertParity(`heatmapLoss gradients ${shape} x${stacks}`, () => {
      const { preds, targets, weights } = inputs(shape, stacks, 100 * i + 1);
      // dy = 3.7, not 1: the backward must scale by the incoming gradient.
      const f = (...xs: Tensor[]) => tf.mul(heatmapLoss(xs.slice(0, stacks) as Tensor4D[], xs[stacks] as Tensor4D, xs[stacks + 1] as Tensor2D), 3.7);
      return tf.grads(f)([...preds, targets, weights]);
    }, [GRAD_KERNEL], GRAD_RTOL);
  }
});

test('heatmap loss and its gradient on native leave no tensors behind', { skip: SKIP_NATIVE }, async () => {
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
    assert.ok(nativeKernelCalls(GRAD_KERNEL) > gradCalls, 'the backward ran on native kernels');
    tf.dispose([...preds, targets, weights, ...variables]);
  } finally {
    await tf.setBackend('cpu');
  }
});

test('heatmap loss on native takes integer weights and rejects mismatched shapes', { skip: SKIP_NATIVE }, async () => {
  requireNative();
  await tf.setBackend('native');
  try {
    tf.tidy(() => {
      const { preds, targets } = inputs([2, 5, 3, 4], 1, 9);
      const mask = [[1, 0, 1, 1], [0, 1, 1, 0]];
      const asInt = heatmapLoss(preds, targets, tf.tensor2d(mask, [2, 4], 'int32')).dataSync()[0];
      const asFloat = heatmapLoss(preds, targets, tf.tensor2d(mask, [2, 4])).dataSync()[0];
      assert.equal(asInt, asFloat);
      assert.throws(() => heatmapLoss([tf.zeros([2, 5, 3, 3]) as Tensor4D], targets, tf.ones([2, 4]) as Tensor2D), (e) => e instanceof InvalidArgumentError && /pred and targets/.test(e.message));
      // A prediction that would broadcast (one channel) is refused too.
      assert.throws(() => heatmapLoss([tf.zeros([2, 5, 3, 1]) as Tensor4D], targets, tf.ones([2, 4]) as Tensor2D), /pred and targets/);
      assert.throws(() => heatmapLoss(preds, targets, tf.ones([2, 3]) as Tensor2D), (e) => e instanceof InvalidArgumentError && /weights must be \[2, 4\]/.test(e.message));
    });
  } finally {
    await tf.setBackend('cpu');
  }
});
