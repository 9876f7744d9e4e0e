// The native backend's inference plans (src/backend/native/infer.ts, native/src/infer.cc): predict() through a plan
// equals predict() through the TF.js engine on the same backend (1e-4 relative) over tiny configurations with
// non-trivial batch norms, follows parameter changes (training step, loaded weights, unfolded parameters alone),
// leaks no tensor and frees its native memory with the model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import type { Tensor, Tensor2D, Tensor4D } from '../../src/tf.js';
import { HourglassModel } from '../../src/model/model.js';
import { FoldedParams } from '../../src/model/fold.js';
import { assignWeights, type StoredTensor } from '../../src/model/checkpoint.js';
import type { HourglassConfig } from '../../src/model/config.js';
import { heatmapLoss } from '../../src/train/loss.js';
import { Rmsprop } from '../../src/train/rmsprop.js';
import { loadAddon, type InferPlanInfo } from '../../src/backend/native/addon.js';
import { NativeInference, nativeInferenceStats, setNativeInference } from '../../src/backend/native/index.js';
import { SKIP_NATIVE, randomTensor, requireNative } from './native-parity.js';
import { randomiseBatchNorms, relativeError } from '../model/random-bn.js';

const RTOL = 1e-4;

async function onNative(): Promise<void> {
  requireNative();
  await tf.setBackend('native');
}

/** predict() through the TF.js engine (the reference) and through the plan; asserts the plan ran. */
function bothWays(model: HourglassModel, x: Tensor4D): { reference: Float32Array; plan: Float32Array; shape: number[] } {
  const previous = setNativeInference(false);
  try {
    const reference = tf.tidy(() => Float32Array.from(model.predict(x).dataSync()));
    setNativeInference(true);
    const runs = nativeInferenceStats().runs;
    const out = model.predict(x);
    const plan = Float32Array.from(out.dataSync());
    const shape = out.shape;
    out.dispose();
    assert.equal(nativeInferenceStats().runs, runs + 1, 'predict() did not run the native plan');
    return { reference, plan, shape };
  } finally {
    setNativeInference(previous);
  }
}

function assertPlanMatches(model: HourglassModel, x: Tensor4D, what: string): Float32Array {
  const { reference, plan, shape } = bothWays(model, x);
  const { inputSize, joints } = model.config;
  assert.deepEqual(shape, [x.shape[0], inputSize / 4, inputSize / 4, joints], `${what}: output shape`);
  const err = relativeError(plan, reference);
  assert.ok(err <= RTOL, `${what}: relative error ${err.toExponential(2)} > ${RTOL}`);
  return plan;
}

interface Case {
  readonly config: Partial<HourglassConfig>;
  readonly batch: number;
}

// Depth 1..4, 1 and 2 stacks, 1 and 2 modules, batch 1 and 3, inputs 64 and 128; features 32 and 64 give the blocked
// layout (with Winograd on 16x16 maps and larger, on AVX-512), 16 and 48 plain NHWC; joints 3 and 5 pad their block.
const CASES: Case[] = [
  { config: { stacks: 1, modules: 1, depth: 1, inputSize: 64, features: 32, joints: 3 }, batch: 1 },
  { config: { stacks: 2, modules: 1, depth: 2, inputSize: 64, features: 16, joints: 3 }, batch: 3 },
  { config: { stacks: 1, modules: 2, depth: 3, inputSize: 128, features: 32, joints: 5 }, batch: 3 },
  { config: { stacks: 2, modules: 2, depth: 4, inputSize: 64, features: 32, joints: 5 }, batch: 1 },
  { config: { stacks: 2, modules: 1, depth: 4, inputSize: 128, features: 16, joints: 3 }, batch: 3 },
  { config: { stacks: 1, modules: 1, depth: 2, inputSize: 128, features: 64, joints: 16 }, batch: 1 },
  { config: { stacks: 1, modules: 2, depth: 1, inputSize: 64, features: 48, joints: 3 }, batch: 3 },
  { config: { stacks: 2, modules: 2, depth: 3, inputSize: 128, features: 32, joints: 14 }, batch: 1 },
];

test('plan predict equals TF.js predict on native over tiny configurations (random batch norms)', { skip: SKIP_NATIVE }, async () => {
  await onNative();
  try {
    for (const [i, c] of CASES.entries()) {
      const model = HourglassModel.create(c.config, 10 + i);
      const s = model.config.inputSize;
      const x = randomTensor([c.batch, s, s, 3], 20 + i, 0, 1) as Tensor4D;
      try {
        randomiseBatchNorms(model, 100 * (i + 1));
        assertPlanMatches(model, x, `${JSON.stringify(c.config)} batch ${c.batch}`);
      } finally {
        x.dispose();
        model.dispose();
      }
    }
  } finally {
    await tf.setBackend('cpu');
  }
});

test('plan predict matches the unfolded inference forward on the cpu backend', { skip: SKIP_NATIVE }, async () => {
  for (const features of [16, 32]) {
    const model = HourglassModel.create({ stacks: 2, features, joints: 5, inputSize: 64, depth: 3 }, 4);
    const x = randomTensor([2, 64, 64, 3], 90, 0, 1) as Tensor4D;
    try {
      randomiseBatchNorms(model, 12);
      await tf.setBackend('cpu');
      const expected = tf.tidy(() => Float32Array.from(model.forward(x, { training: false }).at(-1)!.dataSync()));
      await onNative();
      const runs = nativeInferenceStats().runs;
      const actual = tf.tidy(() => Float32Array.from(model.predict(x).dataSync()));
      assert.equal(nativeInferenceStats().runs, runs + 1, 'predict() did not run the native plan');
      const err = relativeError(actual, expected);
      assert.ok(err <= RTOL, `features ${features}: relative error ${err.toExponential(2)} > ${RTOL}`);
    } finally {
      x.dispose();
      model.dispose();
      await tf.setBackend('cpu');
    }
  }
});

test('plan predict equals TF.js predict with the plain NHWC layout and without Winograd', { skip: SKIP_NATIVE }, async () => {
  await onNative();
  const saved = { layout: process.env.HOURGLASS_NATIVE_PLAN_LAYOUT, wino: process.env.HOURGLASS_NATIVE_WINOGRAD };
  const model = HourglassModel.create({ stacks: 2, modules: 1, depth: 3, inputSize: 128, features: 32, joints: 5 }, 3);
  const x = randomTensor([2, 128, 128, 3], 4, 0, 1) as Tensor4D;
  try {
    randomiseBatchNorms(model, 7);
    process.env.HOURGLASS_NATIVE_PLAN_LAYOUT = 'nhwc';
    assertPlanMatches(model, x, 'NHWC plan');
    delete process.env.HOURGLASS_NATIVE_PLAN_LAYOUT;
    process.env.HOURGLASS_NATIVE_WINOGRAD = '0';
    randomiseBatchNorms(model, 8); // new parameters: the next predict builds a new plan, read with these settings
    assertPlanMatches(model, x, 'blocked plan without Winograd');
  } finally {
    for (const [key, value] of [['HOURGLASS_NATIVE_PLAN_LAYOUT', saved.layout], ['HOURGLASS_NATIVE_WINOGRAD', saved.wino]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    x.dispose();
    model.dispose();
    await tf.setBackend('cpu');
  }
});

test('plan ops on one thread, on the OpenMP team, or each the faster of the two: the same heatmaps, as described', { skip: SKIP_NATIVE }, async () => {
  await onNative();
  const saved = process.env.HOURGLASS_NATIVE_PLAN_THREADS;
  const model = HourglassModel.create({ stacks: 2, modules: 1, depth: 3, inputSize: 128, features: 32, joints: 5 }, 6);
  const x = randomTensor([1, 128, 128, 3], 6, 0, 1) as Tensor4D;
  try {
    for (const [i, mode] of (['one', 'team', 'measured'] as const).entries()) {
      process.env.HOURGLASS_NATIVE_PLAN_THREADS = mode;
      randomiseBatchNorms(model, 30 + i); // new parameters: a new plan, built under this mode
      assertPlanMatches(model, x, `threads ${mode}`);
      const info = describePlan(model, x);
      assert.equal(info.threads, loadAddonOrFail().info().threads, 'the plan\'s team is the backend\'s');
      if (mode === 'one') assert.equal(info.singleThreadOps, info.threads > 1 ? info.ops : 0, `every op on one thread: ${info.singleThreadOps} of ${info.ops}`);
      if (mode === 'team') assert.equal(info.singleThreadOps, 0, 'no op on one thread');
      assert.ok(info.singleThreadOps >= 0 && info.singleThreadOps <= info.ops, `${info.singleThreadOps} of ${info.ops} ops`);
    }
  } finally {
    if (saved === undefined) delete process.env.HOURGLASS_NATIVE_PLAN_THREADS;
    else process.env.HOURGLASS_NATIVE_PLAN_THREADS = saved;
    x.dispose();
    model.dispose();
    await tf.setBackend('cpu');
  }
});

test('plan predict equals TF.js predict on the small configuration (1 stack, 128 features, 128 px)', { skip: SKIP_NATIVE }, async () => {
  await onNative();
  const model = HourglassModel.create({ stacks: 1, features: 128, inputSize: 128, joints: 16 }, 1);
  const x = randomTensor([1, 128, 128, 3], 5, 0, 1) as Tensor4D;
  try {
    randomiseBatchNorms(model, 11);
    assertPlanMatches(model, x, 'small');
    // Every convolution has a fast oneDNN kernel (no reference implementation) in the layout the plan chose.
    const info = describePlan(model, x);
    assert.ok(info.convImpls.length > 50, `${info.convImpls.length} convolutions`);
    const slow = info.convImpls.filter((impl) => impl.startsWith('ref'));
    assert.deepEqual(slow, [], 'reference (slow) convolution implementations in the plan');
  } finally {
    x.dispose();
    model.dispose();
    await tf.setBackend('cpu');
  }
});

/** The description of the plan a fresh executor builds for `x`'s batch (as predict() would, with the current settings). */
function describePlan(model: HourglassModel, x: Tensor4D): InferPlanInfo {
  const executor = new NativeInference(loadAddonOrFail(), model.network, model.params);
  const folded = FoldedParams.fold(model.network, model.params);
  try {
    executor.run(x, folded)?.dispose();
    const info = executor.describe(x.shape[0]);
    assert.ok(info, `no plan for batch ${x.shape[0]}`);
    return info;
  } finally {
    executor.dispose();
    folded.dispose();
  }
}

function loadAddonOrFail() {
  const load = loadAddon();
  if (!load.ok) assert.fail(load.reason);
  return load.addon;
}

const SMALL_2STACK = { stacks: 2, modules: 1, depth: 2, inputSize: 64, features: 32, joints: 3 };

test('the plan follows parameter changes: a training step, loaded weights, unfolded parameters alone', { skip: SKIP_NATIVE }, async () => {
  await onNative();
  const model = HourglassModel.create(SMALL_2STACK, 1);
  const other = HourglassModel.create(SMALL_2STACK, 2);
  const x = randomTensor([1, 64, 64, 3], 6, 0, 1) as Tensor4D;
  const keep: Tensor[] = [x];
  try {
    randomiseBatchNorms(model, 1);
    randomiseBatchNorms(other, 2);
    const before = assertPlanMatches(model, x, 'first');

    // A training step (batch statistics move the running averages; RMSprop moves every weight).
    const vars = model.params.trainable();
    const nameOf = new Map([...vars].map(([name, v]) => [v.name, name]));
    const optimizer = new Rmsprop(vars);
    const xs = randomTensor([2, 64, 64, 3], 7, 0, 1) as Tensor4D;
    const ys = randomTensor([2, 16, 16, 3], 8, 0, 1) as Tensor4D;
    const ws = tf.ones([2, 3]) as Tensor2D;
    keep.push(xs, ys, ws);
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => heatmapLoss(model.forward(xs, { training: true }), ys, ws), [...vars.values()]);
      optimizer.apply(new Map(Object.entries(grads).map(([id, g]) => [nameOf.get(id) as string, g])), 1e-3);
    });
    optimizer.dispose();
    const trained = assertPlanMatches(model, x, 'after a training step');
    assert.ok(relativeError(trained, before) > 1e-3, 'the training step did not change the output');

    // Weights loaded from elsewhere (as a checkpoint load assigns them).
    const weights = new Map<string, StoredTensor>(
      [...other.params.all()].map(([name, v]) => [name, { shape: v.shape, data: Float32Array.from(v.dataSync()) }]),
    );
    assignWeights(model.params, weights, 'test');
    const loaded = assertPlanMatches(model, x, 'after loading weights');
    setNativeInference(false);
    const fromOther = tf.tidy(() => Float32Array.from(other.predict(x).dataSync()));
    setNativeInference(true);
    assert.ok(relativeError(loaded, fromOther) <= RTOL, 'the loaded model does not predict as the one it was loaded from');

    // Parameters that no convolution folds (a residual's input batch norm, a skip-less conv3, the merge convs) alone.
    for (const name of ['stack0.hg.up.0.bn1.runningMean', 'stack1.hg.inner.bottom.0.conv3.weight', 'stack0.mergeHeatmaps.bias']) {
      const previous = assertPlanMatches(model, x, `before changing ${name}`);
      tf.tidy(() => {
        const v = model.params.get(name);
        v.assign(tf.add(tf.mul(v, 1.5), 0.25));
      });
      const changed = assertPlanMatches(model, x, `after changing ${name}`);
      assert.ok(relativeError(changed, previous) > 1e-5, `changing ${name} did not change the output`);
    }
  } finally {
    tf.dispose(keep);
    model.dispose();
    other.dispose();
    await tf.setBackend('cpu');
  }
});

test('plan predict leaks no tensor and frees its native memory with the model', { skip: SKIP_NATIVE }, async () => {
  await onNative();
  const x1 = randomTensor([1, 64, 64, 3], 9, 0, 1) as Tensor4D;
  const x3 = randomTensor([3, 64, 64, 3], 10, 0, 1) as Tensor4D;
  try {
    const liveBefore = nativeInferenceStats().live;
    const tensorsBefore = tf.memory().numTensors;
    const model = HourglassModel.create(SMALL_2STACK, 3);
    const withModel = tf.memory().numTensors;
    const runs = nativeInferenceStats().runs;
    model.predict(x1).dispose(); // builds the folded copy and the plan
    const warm = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const y = model.predict(i === 1 ? x3 : x1);
      assert.equal(tf.memory().numTensors, warm + 1, 'predict() returns exactly one new tensor');
      y.dispose();
    }
    tf.tidy(() => {
      tf.sum(model.predict(x1)); // inside the caller's tidy
    });
    assert.equal(tf.memory().numTensors, warm, 'tensors left behind by plan predicts');
    assert.equal(nativeInferenceStats().runs, runs + 5);
    // Batch sizes 1 and 3: two plans alive; only the folded convolutions are kept as tensors.
    assert.equal(nativeInferenceStats().live, liveBefore + 2);
    assert.ok(warm > withModel, 'the folded convolutions are kept between calls');
    model.dispose();
    assert.equal(nativeInferenceStats().live, liveBefore, 'plans still allocated after model.dispose()');
    assert.equal(tf.memory().numTensors, tensorsBefore, 'tensors left after model.dispose()');
  } finally {
    tf.dispose([x1, x3]);
    await tf.setBackend('cpu');
  }
});

test('at most three batch sizes keep a plan per model; the least recently used is freed', { skip: SKIP_NATIVE }, async () => {
  await onNative();
  const model = HourglassModel.create({ ...SMALL_2STACK, stacks: 1, depth: 1 }, 4);
  const liveBefore = nativeInferenceStats().live;
  try {
    for (const n of [1, 2, 3, 4, 1]) {
      const x = tf.zeros([n, 64, 64, 3]) as Tensor4D;
      model.predict(x).dispose();
      x.dispose();
      assert.ok(nativeInferenceStats().live - liveBefore <= 3, `${nativeInferenceStats().live - liveBefore} plans alive`);
    }
  } finally {
    model.dispose();
    await tf.setBackend('cpu');
  }
  assert.equal(nativeInferenceStats().live, liveBefore);
});
