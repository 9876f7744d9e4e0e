// The webgpu backend (Dawn; SwiftShader in CI) against the `cpu` reference on a tiny two-stack network: the forward
// pass in both modes, the gradients of the heatmap loss with respect to every weight, and one whole training step
// (network, loss, RMSprop from src/train) with the batch-norm running statistics it updates. Correctness only: the
// software device's speed means nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import type { Tensor, Tensor2D, Tensor4D } from '../../src/tf.js';
import { HourglassModel } from '../../src/model/model.js';
import { heatmapSize, makeConfig } from '../../src/model/config.js';
import { heatmapLoss } from '../../src/train/loss.js';
import { Rmsprop } from '../../src/train/rmsprop.js';
import type { StoredTensor } from '../../src/model/checkpoint.js';
import { randomArray, relativeError } from './native-parity.js';
import { SKIP_WEBGPU, requireWebgpu } from './webgpu-env.js';

/** Two stacks (intermediate supervision), depth 1: every kind of layer, few dispatches. */
const CONFIG = makeConfig({ stacks: 2, features: 8, modules: 1, joints: 3, inputSize: 16, depth: 1 });
const BATCH = 2;
/** Max |webgpu - cpu| / max |cpu| per tensor: float32 sums in another order, through batch norm. */
const RTOL = 2e-4;
const GRAD_RTOL = 2e-3;

interface Inputs {
  readonly x: Tensor4D; // [B, S, S, 3]
  readonly y: Tensor4D; // [B, h, h, K]
  readonly w: Tensor2D; // [B, K]
}

function inputs(): Inputs {
  const s = CONFIG.inputSize;
  const h = heatmapSize(CONFIG);
  const k = CONFIG.joints;
  const weights = randomArray(BATCH * k, 3, 0, 1).map((v) => (v < 0.2 ? 0 : 1)); // some joints masked
  return {
    x: tf.tensor4d(randomArray(BATCH * s * s * 3, 1, 0, 1), [BATCH, s, s, 3]),
    y: tf.tensor4d(randomArray(BATCH * h * h * k, 2, 0, 1), [BATCH, h, h, k]),
    w: tf.tensor2d(weights, [BATCH, k]),
  };
}

/** Reads tensors back (asynchronously: webgpu cannot read synchronously in Node). */
async function read(tensors: readonly Tensor[]): Promise<{ shape: number[]; data: Float32Array }[]> {
  return Promise.all(tensors.map(async (t) => ({ shape: t.shape, data: Float32Array.from(await t.data()) })));
}

/** Runs `fn` on `backend` with a model made (on cpu, from one seed) for this run; restores cpu afterwards. */
async function runOn<T>(backend: string, fn: (model: HourglassModel, inp: Inputs) => Promise<T>): Promise<T> {
  await tf.setBackend('cpu');
  const model = HourglassModel.create(CONFIG, 7);
  const inp = inputs();
  try {
    await tf.setBackend(backend);
    return await fn(model, inp);
  } finally {
    await tf.setBackend('cpu');
    tf.dispose([inp.x, inp.y, inp.w]);
    model.dispose();
  }
}

function assertClose(what: string, actual: { shape: number[]; data: Float32Array }[], expected: { shape: number[]; data: Float32Array }[], rtol: number): void {
  assert.equal(actual.length, expected.length, `${what}: number of tensors`);
  expected.forEach((e, i) => {
    assert.deepEqual(actual[i].shape, e.shape, `${what} ${i}: shape`);
    assert.ok(actual[i].data.every(Number.isFinite), `${what} ${i}: finite`);
    const err = relativeError(actual[i].data, e.data);
    assert.ok(err <= rtol, `${what} ${i}: relative error ${err.toExponential(2)} > ${rtol}`);
  });
}

test('webgpu forward pass matches cpu (training and inference mode, predict)', { skip: SKIP_WEBGPU, timeout: 120_000 }, async () => {
  requireWebgpu();
  const forward = (backend: string) => runOn(backend, async (model, { x }) => {
    assert.equal(tf.getBackend(), backend);
    const outs = tf.tidy(() => [...model.forward(x, { training: true }), ...model.forward(x, { training: false }), model.predict(x)]);
    try {
      return await read(outs);
    } finally {
      tf.dispose(outs);
    }
  });
  const expected = await forward('cpu');
  const before = tf.memory().numTensors;
  const actual = await forward('webgpu');
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
  assert.equal(actual.length, 2 * CONFIG.stacks + 1);
  assertClose('forward output', actual, expected, RTOL);
});

test('webgpu gradients of the heatmap loss with respect to every weight match cpu', { skip: SKIP_WEBGPU, timeout: 120_000 }, async () => {
  requireWebgpu();
  const gradients = (backend: string) => runOn(backend, async (model, { x, y, w }) => {
    const vars = model.params.trainable();
    const { value, grads } = tf.variableGrads(() => heatmapLoss(model.forward(x, { training: true }), y, w), [...vars.values()]);
    const ordered = [value, ...[...vars.values()].map((v) => grads[v.name])];
    try {
      return { names: [...vars.keys()], values: await read(ordered) };
    } finally {
      tf.dispose([value, ...Object.values(grads)]);
    }
  });
  const expected = await gradients('cpu');
  const actual = await gradients('webgpu');
  assert.deepEqual(actual.names, expected.names);
  assert.ok(actual.names.length > 50, `${actual.names.length} trainable tensors`);
  assertClose('loss', actual.values.slice(0, 1), expected.values.slice(0, 1), RTOL);
  // A convolution's bias ahead of batch norm has a zero gradient in exact arithmetic (the norm removes any shift): its
  // float gradient is rounding noise, so each gradient is compared on the scale of the largest one of the network.
  const scale = Math.max(...expected.values.slice(1).map((g) => g.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
  actual.names.forEach((name, i) => {
    const [a, e] = [actual.values[i + 1], expected.values[i + 1]];
    assert.deepEqual(a.shape, e.shape, `gradient of ${name}: shape`);
    const own = e.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const diff = a.data.reduce((m, v, j) => Math.max(m, Math.abs(v - e.data[j])), 0);
    const err = diff / Math.max(own, 1e-3 * scale);
    assert.ok(err <= GRAD_RTOL, `gradient of ${name}: max difference ${diff.toExponential(2)} (own scale ${own.toExponential(2)}, network's ${scale.toExponential(2)}) relative error ${err.toExponential(2)} > ${GRAD_RTOL}`);
  });
});

test('one webgpu training step (network, loss, RMSprop) leaves the weights, optimiser slots and running statistics cpu leaves', { skip: SKIP_WEBGPU, timeout: 120_000 }, async () => {
  requireWebgpu();
  const step = (backend: string) => runOn(backend, async (model, { x, y, w }) => {
    const vars = model.params.trainable();
    const optimizer = new Rmsprop(vars);
    try {
      // Slots that already hold statistics (as after many steps): the update is then proportional to the gradient,
      // where from zero slots it would be lr * sign(gradient), which float rounding can flip for tiny gradients.
      const state = new Map<string, StoredTensor>([...vars].map(([name, v], i) => [`rmsprop.v.${name}`, { shape: v.shape, data: randomArray(v.size, 100 + i, 1e-4, 1e-3) }]));
      optimizer.load(state);
      const { value, grads } = tf.variableGrads(() => heatmapLoss(model.forward(x, { training: true }), y, w), [...vars.values()]);
      const names = new Map([...vars].map(([name, v]) => [v.name, name]));
      optimizer.apply(new Map(Object.entries(grads).map(([id, g]) => [names.get(id) as string, g])), 1e-3);
      tf.dispose([value, ...Object.values(grads)]);
      const all = model.params.all();
      const slots = optimizer.state();
      return { names: [...all.keys(), ...slots.keys()], values: await read([...all.values(), ...slots.values()]) };
    } finally {
      optimizer.dispose();
    }
  });
  const expected = await step('cpu');
  const actual = await step('webgpu');
  assert.deepEqual(actual.names, expected.names);
  assert.ok(actual.names.some((n) => /running/i.test(n)), 'running statistics are compared');
  actual.names.forEach((name, i) => assertClose(name, [actual.values[i]], [expected.values[i]], RTOL));
});

test('webgpu AddN of more inputs than one shader can bind (src/backend/webgpu/kernels.ts) matches cpu and frees its partial sums', { skip: SKIP_WEBGPU, timeout: 60_000 }, async () => {
  requireWebgpu();
  const gpuBytes = () => (tf.memory() as { numBytesInGPU?: number }).numBytesInGPU ?? 0;
  const sum = async (backend: string, count: number) => {
    await tf.setBackend(backend);
    try {
      const bytes = gpuBytes();
      const xs = Array.from({ length: count }, (_, i) => tf.tensor1d(randomArray(1000, 500 + i)));
      const total = tf.addN(xs);
      let data: Float32Array;
      try {
        data = Float32Array.from(await total.data());
      } finally {
        tf.dispose([total, ...xs]);
      }
      return { data, leftBytes: gpuBytes() - bytes };
    } finally {
      await tf.setBackend('cpu');
    }
  };
  for (const count of [2, 7, 8, 163]) {
    const expected = await sum('cpu', count);
    const actual = await sum('webgpu', count);
    const err = relativeError(actual.data, expected.data);
    assert.ok(err <= 1e-6, `addN of ${count}: relative error ${err.toExponential(2)}`);
    assert.equal(actual.leftBytes, 0, `addN of ${count}: GPU memory left behind (partial sums)`);
  }
  const { checkWebgpuDevice } = await import('../../src/backend/webgpu/dawn.js');
  await new Promise((resolve) => setTimeout(resolve, 50)); // uncaptured errors arrive as events
  checkWebgpuDevice();
});

test('webgpu RMSprop in WGSL (src/backend/webgpu/rmsprop.ts) is the webgpu backend\'s update and matches the portable one on cpu', { skip: SKIP_WEBGPU, timeout: 60_000 }, async () => {
  requireWebgpu();
  const { webgpuRmspropUpdate } = await import('../../src/backend/webgpu/rmsprop.js');
  const { ops } = await import('../../src/model/ops.js');
  const shape = [3, 3, 8, 5];
  const size = 3 * 3 * 8 * 5;
  const update = async (backend: string) => {
    await tf.setBackend(backend);
    try {
      const slotData = randomArray(size, 12, 0, 1e-3);
      slotData.fill(0, 0, 40); // a fresh slot, as on the first step
      const [p, v] = tf.tidy(() => ops().rmspropUpdate(tf.tensor(randomArray(size, 11), shape), tf.tensor(slotData, shape),
        tf.tensor(randomArray(size, 13, -1e-2, 1e-2), shape), 2.5e-4, 0.99, 1e-8));
      try {
        return { update: ops().rmspropUpdate, values: await read([p, v]) };
      } finally {
        tf.dispose([p, v]);
      }
    } finally {
      await tf.setBackend('cpu');
    }
  };
  const expected = await update('cpu');
  const actual = await update('webgpu');
  assert.equal(actual.update, webgpuRmspropUpdate, 'the webgpu backend uses the WGSL update');
  assert.notEqual(expected.update, webgpuRmspropUpdate);
  assertClose('rmsprop [param, slot]', actual.values, expected.values, 1e-6);
});
