// The network: parameter counts against the paper's layout, output shapes, batch-norm modes, no tensor leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import { makeConfig } from '../../src/model/config.js';
import { StackedHourglass } from '../../src/model/network.js';
import { HourglassModel } from '../../src/model/model.js';
import { heatmapLoss } from '../../src/train/loss.js';
import { useCpu } from '../helpers.js';
import type { Tensor4D, Tensor2D } from '@tensorflow/tfjs-core';

test('parameter counts match the PyTorch reference layout (1 module per step, conv biases)', () => {
  const cases: [number, number, number, number, number][] = [
    // stacks, features, joints, parameters, GFLOPs at the given input
    [2, 256, 16, 6_570_400, 16.67],
    [8, 256, 16, 25_434_112, 54.88],
    [1, 128, 16, 950_800, 1.13],
  ];
  for (const [stacks, features, joints, parameters, gflops] of cases) {
    const inputSize = features === 128 ? 128 : 256;
    const net = new StackedHourglass(makeConfig({ stacks, features, joints, inputSize }));
    assert.equal(net.parameterCount(), parameters, `${stacks}/${features}/${joints}`);
    assert.equal(Number((net.flops() / 1e9).toFixed(2)), gflops, `GFLOPs of ${stacks}/${features}/${joints}`);
  }
});

test('allocated variables hold exactly the counted trainable parameters', async () => {
  await useCpu();
  const model = HourglassModel.create({ stacks: 1, features: 128, joints: 16, inputSize: 128 });
  try {
    let trainable = 0;
    for (const v of model.params.trainable().values()) trainable += v.size;
    assert.equal(trainable, 950_800);
    // Running statistics exist for every batch norm but are not trainable.
    const stats = model.params.specs.filter((s) => !s.trainable);
    assert.ok(stats.length > 0 && stats.every((s) => /running(Mean|Var)$/.test(s.name)));
  } finally {
    model.dispose();
  }
});

test('modules per step multiply the residuals', () => {
  const one = new StackedHourglass(makeConfig({ stacks: 1, features: 64, modules: 1, joints: 8, inputSize: 64 }));
  const three = new StackedHourglass(makeConfig({ stacks: 1, features: 64, modules: 3, joints: 8, inputSize: 64 }));
  // f=64: one Residual(64,64) has 2*64 + (64*32+32) + 2*32 + (32*32*9+32) + 2*32 + (32*64+64) = 13,696 parameters.
  // Each extra module adds one per step: 13 in the depth-4 hourglass + 1 in the head = 14 per extra module.
  assert.equal(three.parameterCount() - one.parameterCount(), 2 * 14 * 13_696);
});

test('output shapes: one [N, S/4, S/4, K] tensor per stack', async () => {
  await useCpu();
  const cases = [
    { config: { stacks: 2, features: 16, joints: 5, inputSize: 64, depth: 4 }, batch: 2 },
    { config: { stacks: 1, features: 8, joints: 3, inputSize: 32, depth: 3, modules: 2 }, batch: 1 },
    { config: { stacks: 3, features: 8, joints: 14, inputSize: 64, depth: 2 }, batch: 3 },
  ];
  for (const { config, batch } of cases) {
    const model = HourglassModel.create(config);
    try {
      const shapes = tf.tidy(() => {
        const x = tf.randomUniform([batch, config.inputSize, config.inputSize, 3]) as Tensor4D;
        return model.forward(x, { training: false }).map((t) => t.shape);
      });
      const hm = config.inputSize / 4;
      assert.deepEqual(shapes, Array.from({ length: config.stacks }, () => [batch, hm, hm, config.joints]));
    } finally {
      model.dispose();
    }
  }
});

test('wrong input shape is refused with the expected shape named', async () => {
  await useCpu();
  const model = HourglassModel.create({ stacks: 1, features: 8, joints: 3, inputSize: 32, depth: 3 });
  try {
    assert.throws(
      () => tf.tidy(() => model.predict(tf.zeros([1, 64, 64, 3]) as Tensor4D)),
      /model input must be \[N, 32, 32, 3\], got \[1, 64, 64, 3\]/,
    );
  } finally {
    model.dispose();
  }
});

test('training mode uses batch statistics and moves running averages; inference uses them', async () => {
  await useCpu();
  const model = HourglassModel.create({ stacks: 1, features: 8, joints: 3, inputSize: 32, depth: 3 });
  try {
    const x = tf.add(tf.mul(tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 7), 3), 5) as Tensor4D;
    const before = await model.params.get('stem.bn.runningMean').data();
    const inferA = model.predict(x);
    tf.dispose(model.forward(x, { training: true }));
    const after = await model.params.get('stem.bn.runningMean').data();
    assert.ok(after.some((v, i) => Math.abs(v - before[i]) > 1e-4), 'running mean moved');
    const inferB = model.predict(x);
    const diff = tf.max(tf.abs(tf.sub(inferA, inferB))).dataSync()[0];
    assert.ok(diff > 0, 'inference output changed with the running statistics');
    tf.dispose([x, inferA, inferB]);
  } finally {
    model.dispose();
  }
});

test('no tensor leaks: inference forward, training forward + gradients', async () => {
  await useCpu();
  const model = HourglassModel.create({ stacks: 2, features: 8, joints: 4, inputSize: 32, depth: 3 });
  try {
    const x = tf.randomUniform([2, 32, 32, 3]) as Tensor4D;
    const targets = tf.randomUniform([2, 8, 8, 4]) as Tensor4D;
    const weights = tf.ones([2, 4]) as Tensor2D;
    // The first predict folds the batch norms into a copy of the convolution weights, which the model keeps.
    tf.dispose(model.predict(x));
    const start = tf.memory().numTensors;
    tf.dispose(model.predict(x));
    assert.equal(tf.memory().numTensors, start, 'predict');
    const { value, grads } = tf.variableGrads(() => heatmapLoss(model.forward(x, { training: true }), targets, weights));
    assert.equal(Object.keys(grads).length, model.params.trainable().size, 'a gradient for every trainable parameter');
    assert.ok(Number.isFinite(value.dataSync()[0]));
    tf.dispose([value, ...Object.values(grads)]);
    assert.equal(tf.memory().numTensors, start, 'training step');
    tf.dispose([x, targets, weights]);
  } finally {
    model.dispose();
  }
});

test('initialisation is seeded: same seed same weights, other seed other weights', async () => {
  await useCpu();
  const cfg = { stacks: 1, features: 8, joints: 3, inputSize: 32, depth: 3 };
  const a = HourglassModel.create(cfg, 1);
  const b = HourglassModel.create(cfg, 1);
  const c = HourglassModel.create(cfg, 2);
  try {
    const w = (m: HourglassModel) => Array.from(m.params.get('stem.conv.weight').dataSync());
    assert.deepEqual(w(a), w(b));
    assert.notDeepEqual(w(a), w(c));
  } finally {
    [a, b, c].forEach((m) => m.dispose());
  }
});

test('config validation names the field', () => {
  assert.throws(() => makeConfig({ stacks: 0 }), /config.stacks must be an integer in \[1, 16\], got 0/);
  assert.throws(() => makeConfig({ inputSize: 100 }), /config.inputSize must be divisible by 64/);
  assert.throws(() => makeConfig({ features: 7 }), /config.features must be even/);
  assert.throws(() => makeConfig({ bogus: 1 } as never), /unknown config key 'bogus'/);
});

test('dispose releases every tensor of a model, its folded inference copy included', async () => {
  await useCpu();
  const start = tf.memory().numTensors;
  const model = HourglassModel.create({ stacks: 2, features: 8, joints: 4, inputSize: 32, depth: 3 });
  const x = tf.randomUniform([1, 32, 32, 3]) as Tensor4D;
  tf.dispose(model.predict(x));
  x.dispose();
  model.dispose();
  assert.equal(tf.memory().numTensors, start);
});
