// Batch-norm folding for inference (src/model/fold.ts): predict() with folded convolutions equals the unfolded
// inference forward, follows parameter changes, and frees its folded copy with the model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import type { Tensor4D } from '../../src/tf.js';
import { HourglassModel } from '../../src/model/model.js';
import { foldBatchNorm, foldPairs } from '../../src/model/fold.js';
import { useCpu } from '../helpers.js';
import { randomiseBatchNorms, relativeError } from './random-bn.js';

const CONFIG = { stacks: 2, features: 16, joints: 5, inputSize: 64, depth: 3 };

function unfolded(model: HourglassModel, x: Tensor4D): Float32Array {
  return tf.tidy(() => model.forward(x, { training: false }).at(-1)!.dataSync() as Float32Array);
}

function folded(model: HourglassModel, x: Tensor4D): Float32Array {
  return tf.tidy(() => model.predict(x).dataSync() as Float32Array);
}

test('foldBatchNorm: bn(conv(x)) == conv\'(x) on a hand-made 1x1 case', async () => {
  await useCpu();
  const r = foldBatchNorm(
    tf.tensor4d([2, 3], [1, 1, 1, 2]), tf.tensor1d([1, -1]),
    tf.tensor1d([0.5, 2]), tf.tensor1d([3, 0]), tf.tensor1d([2, 1]), tf.tensor1d([0.25, 1]), 1,
  );
  // scale = gamma / sqrt(var + 1) = [1, 1]; filter' = [2, 3]; bias' = (bias - mean) * scale + beta = [0.75, -2].
  assert.deepEqual(Array.from(r.filter.dataSync()), [2, 3]);
  assert.deepEqual(Array.from(r.bias.dataSync()), [0.75, -2]);
  tf.dispose([r.filter, r.bias]);
});

test('every conv -> BN + ReLU of the network is folded: stem, heads, and conv1/conv2 of each residual', () => {
  const model = HourglassModel.create({ ...CONFIG, stacks: 1, depth: 2 });
  try {
    const names = foldPairs(model.network).map((p) => `${p.conv.name}>${p.bn.name}`);
    assert.ok(names.includes('stem.conv>stem.bn'));
    assert.ok(names.includes('stack0.head.conv>stack0.head.bn'));
    assert.ok(names.includes('stem.res1.conv1>stem.res1.bn2') && names.includes('stem.res1.conv2>stem.res1.bn3'));
    // 3 stem residuals + depth 2: (up, low1, low3) x 2 + bottom + 1 head residual = 11 residuals, 2 pairs each.
    assert.equal(names.length, 2 + 11 * 2);
    assert.equal(new Set(names).size, names.length);
  } finally {
    model.dispose();
  }
});

test('folded predict equals the unfolded inference forward on cpu (1e-4) and follows parameter changes', async () => {
  await useCpu();
  const model = HourglassModel.create(CONFIG, 3);
  try {
    const x = tf.randomUniform([2, 64, 64, 3], 0, 1, 'float32', 5) as Tensor4D;
    randomiseBatchNorms(model, 100);
    const err = relativeError(folded(model, x), unfolded(model, x));
    assert.ok(err <= 1e-4, `relative error ${err}`);
    // New parameter values (as a training step or a checkpoint load gives) must be refolded.
    randomiseBatchNorms(model, 200);
    tf.tidy(() => {
      const w = model.params.get('stack1.head.conv.weight');
      w.assign(tf.mul(w, 1.5));
    });
    const err2 = relativeError(folded(model, x), unfolded(model, x));
    assert.ok(err2 <= 1e-4, `after a parameter change: relative error ${err2}`);
    x.dispose();
  } finally {
    model.dispose();
  }
});

test('predict inside the caller\'s tidy keeps the folded copy alive for the next call', async () => {
  await useCpu();
  const model = HourglassModel.create({ ...CONFIG, stacks: 1 });
  try {
    const x = tf.zeros([1, 64, 64, 3]) as Tensor4D;
    const a = tf.tidy(() => tf.sum(model.predict(x)).dataSync()[0]);
    const b = tf.tidy(() => tf.sum(model.predict(x)).dataSync()[0]);
    assert.equal(b, a);
    x.dispose();
  } finally {
    model.dispose();
  }
});

test('the folded copy is freed by model.dispose()', async () => {
  await useCpu();
  const start = tf.memory().numTensors;
  const model = HourglassModel.create({ ...CONFIG, stacks: 1 });
  const x = tf.zeros([1, 64, 64, 3]) as Tensor4D;
  tf.dispose(model.predict(x));
  model.dispose();
  x.dispose();
  assert.equal(tf.memory().numTensors, start);
});
