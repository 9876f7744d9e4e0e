// Starting from another network's weights (src/model/init.ts): copies, identity modules and copied stacks give a
// grown network that computes what its source did; joint changes re-initialise only the joint-dependent tensors;
// networks that do not fit are refused with the reason named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import type { Tensor4D } from '../../src/tf.js';
import { HourglassModel } from '../../src/model/model.js';
import type { StoredTensor } from '../../src/model/checkpoint.js';
import { firstStacks, initialiseFrom } from '../../src/model/init.js';
import { heatmapLoss } from '../../src/train/loss.js';
import { useCpu } from '../helpers.js';
import { randomiseBatchNorms, relativeError } from './random-bn.js';

const SOURCE = { stacks: 2, features: 8, modules: 1, joints: 4, inputSize: 32, depth: 2 };

function snapshot(model: HourglassModel): { config: typeof model.config; weights: Map<string, StoredTensor> } {
  const weights = new Map<string, StoredTensor>();
  for (const [name, v] of model.params.all()) weights.set(name, { shape: v.shape, data: v.dataSync() as Float32Array });
  return { config: model.config, weights };
}

function outputs(model: HourglassModel, x: Tensor4D): Float32Array[] {
  return tf.tidy(() => model.forward(x, { training: false }).map((t) => t.dataSync() as Float32Array));
}

test('a grown network (more stacks, more modules per step, larger input) starts out computing what its source did', async () => {
  await useCpu();
  const source = HourglassModel.create(SOURCE, 3);
  randomiseBatchNorms(source, 30);
  const grown = HourglassModel.create({ ...SOURCE, stacks: 4, modules: 2 }, 4);
  randomiseBatchNorms(grown, 40); // whatever the new modules' batch norms hold, the identity must not depend on it
  try {
    const report = initialiseFrom(grown.params, grown.config, snapshot(source), 'source.ckpt');
    assert.equal(report.addedStacks, 2);
    // Residual sequences per stack: up, low1, low3 per level (depth 2) + bottom + head = 8; 4 stacks.
    assert.equal(report.identityModules, 4 * 8);
    assert.deepEqual(report.fresh, []);
    assert.match(report.summary, /32 new residual modules start as identities; 2 new stack\(s\) start as copies of stack 2/);
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 7) as Tensor4D;
    const want = outputs(source, x);
    const got = outputs(grown, x);
    assert.equal(got.length, 4);
    assert.ok(relativeError(got[0], want[0]) < 1e-5, 'stack 1');
    for (const i of [1, 2, 3]) assert.ok(relativeError(got[i], want[1]) < 1e-5, `stack ${i + 1} predicts what the source's last stack did`);
    const a = tf.tidy(() => grown.predict(x).dataSync() as Float32Array);
    assert.ok(relativeError(a, want[1]) < 1e-4, 'predict (folded) too');
    // Larger input: the same weights, a network of another input size.
    const wide = HourglassModel.create({ ...SOURCE, inputSize: 64 }, 5);
    try {
      initialiseFrom(wide.params, wide.config, snapshot(source), 'source.ckpt');
      assert.deepEqual(Array.from(wide.params.get('stack1.head.out.weight').dataSync()), Array.from(source.params.get('stack1.head.out.weight').dataSync()));
    } finally {
      wide.dispose();
    }
    x.dispose();
  } finally {
    source.dispose();
    grown.dispose();
  }
});

test('the identity modules and zero merges learn: their gradients are not zero', async () => {
  await useCpu();
  const source = HourglassModel.create(SOURCE, 3);
  const grown = HourglassModel.create({ ...SOURCE, stacks: 3, modules: 2 }, 4);
  try {
    initialiseFrom(grown.params, grown.config, snapshot(source), 'source.ckpt');
    const trainable = grown.params.trainable();
    const names = ['stack0.hg.up.1.conv3.weight', 'stack2.head.residual.1.conv3.weight', 'stack1.mergeFeatures.weight', 'stack1.mergeHeatmaps.weight'];
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 8) as Tensor4D;
    const y = tf.randomUniform([2, 8, 8, 4], 0, 1, 'float32', 9) as Tensor4D;
    const w = tf.ones([2, 4]);
    const vars = names.map((n) => trainable.get(n) as tf.Variable);
    const { grads, value } = tf.variableGrads(() => heatmapLoss(grown.forward(x, { training: true }), y, w as tf.Tensor2D), vars);
    for (const n of names) {
      assert.equal(tf.abs(grown.params.get(n)).max().dataSync()[0], 0, `${n} starts at zero`);
      const g = grads[vars[names.indexOf(n)].name];
      assert.ok(tf.abs(g).max().dataSync()[0] > 0, `${n} has a gradient`);
    }
    tf.dispose([x, y, w, value, ...Object.values(grads)]);
  } finally {
    source.dispose();
    grown.dispose();
  }
});

test('another joint count re-initialises only the heads and the heatmap merges', async () => {
  await useCpu();
  const source = HourglassModel.create(SOURCE, 3);
  const other = HourglassModel.create({ ...SOURCE, joints: 7 }, 4);
  try {
    const before = new Map([...other.params.all()].map(([n, v]) => [n, Array.from(v.dataSync())]));
    const report = initialiseFrom(other.params, other.config, snapshot(source), 'source.ckpt');
    assert.deepEqual([...report.fresh].sort(), ['stack0.head.out.bias', 'stack0.head.out.weight', 'stack0.mergeHeatmaps.weight', 'stack1.head.out.bias', 'stack1.head.out.weight']);
    assert.match(report.summary, /5 joint-dependent tensors start fresh \(4 -> 7 joints\)/);
    for (const name of report.fresh) assert.deepEqual(Array.from(other.params.get(name).dataSync()), before.get(name), `${name} kept its initialisation`);
    assert.deepEqual(Array.from(other.params.get('stack0.mergeHeatmaps.bias').dataSync()), Array.from(source.params.get('stack0.mergeHeatmaps.bias').dataSync()));
    assert.deepEqual(Array.from(other.params.get('stem.conv.weight').dataSync()), Array.from(source.params.get('stem.conv.weight').dataSync()));
    assert.equal(report.copied, other.params.specs.length - 5);
    // The same number of other joints: the heads start over too when asked.
    const same = HourglassModel.create(SOURCE, 6);
    try {
      const r = initialiseFrom(same.params, same.config, snapshot(source), 'source.ckpt', { freshHeads: true });
      assert.equal(r.fresh.length, 5);
      assert.match(r.summary, /\(4 -> 4 joints, other joints\)/);
    } finally {
      same.dispose();
    }
  } finally {
    source.dispose();
    other.dispose();
  }
});

test('a deeper hourglass keeps the source hourglass as its inner levels; the new outer level starts as identities and learns', async () => {
  await useCpu();
  const source = HourglassModel.create(SOURCE, 3);
  randomiseBatchNorms(source, 30);
  const deep = HourglassModel.create({ ...SOURCE, depth: 3, inputSize: 64 }, 4);
  try {
    const report = initialiseFrom(deep.params, deep.config, snapshot(source), 'source.ckpt');
    // One new level per stack: its up, low1 and low3 sequences, one module each; 2 stacks.
    assert.equal(report.identityModules, 2 * 3);
    assert.match(report.summary, /hourglass depth 2 -> 3: the source's hourglasses are the inner levels/);
    assert.equal(report.copied, source.params.specs.length);
    for (const spec of source.params.specs) {
      const name = spec.name.replace(/^(stack\d+\.hg\.)/, '$1inner.');
      assert.deepEqual(Array.from(deep.params.get(name).dataSync()), Array.from(source.params.get(spec.name).dataSync()), `${spec.name} -> ${name}`);
    }
    for (const level of ['up', 'low1', 'low3']) {
      assert.equal(tf.abs(deep.params.get(`stack1.hg.${level}.0.conv3.weight`)).max().dataSync()[0], 0, `${level} starts as an identity`);
    }
    const x = tf.randomUniform([2, 64, 64, 3], 0, 1, 'float32', 8) as Tensor4D;
    const y = tf.randomUniform([2, 16, 16, 4], 0, 1, 'float32', 9) as Tensor4D;
    const w = tf.ones([2, 4]);
    const v = deep.params.trainable().get('stack0.hg.up.0.conv3.weight') as tf.Variable;
    const { grads, value } = tf.variableGrads(() => heatmapLoss(deep.forward(x, { training: true }), y, w as tf.Tensor2D), [v]);
    assert.ok(Number.isFinite(value.dataSync()[0]));
    assert.ok(tf.abs(grads[v.name]).max().dataSync()[0] > 0, 'the new level has a gradient');
    tf.dispose([x, y, w, value, grads[v.name]]);
  } finally {
    source.dispose();
    deep.dispose();
  }
});

test('networks the weights do not fit are refused, naming the source and the difference', async () => {
  await useCpu();
  const source = HourglassModel.create({ ...SOURCE, stacks: 2, modules: 2 }, 3);
  const snap = snapshot(source);
  source.dispose();
  const cases: [Partial<typeof SOURCE>, RegExp][] = [
    [{ features: 16, modules: 2 }, /--init src\.ckpt: it has 8 features, this network 16 \(widening is not supported\)/],
    [{ depth: 1, modules: 2 }, /its hourglasses have depth 2, this network's only 1 \(give --depth 2 or more\)/],
    [{ stacks: 1, modules: 2 }, /it has 2 stacks, this network only 1 \(give --stacks 2 or more\)/],
    [{ modules: 1 }, /it has 2 modules per step, this network only 1 \(give --modules 2 or more\)/],
  ];
  for (const [change, message] of cases) {
    const model = HourglassModel.create({ ...SOURCE, ...change });
    try {
      assert.throws(() => initialiseFrom(model.params, model.config, snap, 'src.ckpt'), message);
    } finally {
      model.dispose();
    }
  }
  const model = HourglassModel.create({ ...SOURCE, modules: 2 });
  try {
    const broken = new Map(snap.weights);
    broken.set('stem.conv.weight', { shape: [1, 1, 1, 1], data: new Float32Array(1) });
    assert.throws(() => initialiseFrom(model.params, model.config, { config: snap.config, weights: broken }, 'src.ckpt'), /tensor stem\.conv\.weight has shape \[1, 1, 1, 1\]/);
    const extra = new Map(snap.weights);
    extra.set('unknown.weight', { shape: [1], data: new Float32Array(1) });
    assert.throws(() => initialiseFrom(model.params, model.config, { config: snap.config, weights: extra }, 'src.ckpt'), /tensor unknown\.weight has no place in this network/);
    const missing = new Map(snap.weights);
    missing.delete('stack1.head.bn.gamma');
    assert.throws(() => initialiseFrom(model.params, model.config, { config: snap.config, weights: missing }, 'src.ckpt'), /tensor stack1\.head\.bn\.gamma is missing/);
  } finally {
    model.dispose();
  }
});

test('firstStacks: the first stack of a 2-stack network, as a 1-stack network, computes what that stack predicted', async () => {
  await useCpu();
  const source = HourglassModel.create(SOURCE, 3);
  randomiseBatchNorms(source, 30);
  const one = HourglassModel.create({ ...SOURCE, stacks: 1 }, 4);
  try {
    const prefix = firstStacks(snapshot(source), 1, 'src.ckpt');
    assert.equal(prefix.config.stacks, 1);
    assert.ok(![...prefix.weights.keys()].some((n) => n.startsWith('stack1.') || n.includes('merge')), 'no second stack, no merges');
    const report = initialiseFrom(one.params, one.config, prefix, 'src.ckpt');
    assert.equal(report.copied, one.params.specs.length);
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 7) as Tensor4D;
    assert.ok(relativeError(outputs(one, x)[0], outputs(source, x)[0]) < 1e-5);
    x.dispose();
    // Another head (the detector's 3 channels): everything but the joint-dependent tensors is copied.
    const detector = HourglassModel.create({ ...SOURCE, stacks: 1, joints: 3 }, 5);
    try {
      const r = initialiseFrom(detector.params, detector.config, prefix, 'src.ckpt', { freshHeads: true });
      assert.deepEqual(r.fresh, ['stack0.head.out.weight', 'stack0.head.out.bias']);
    } finally {
      detector.dispose();
    }
    assert.throws(() => firstStacks(snapshot(source), 3, 'src.ckpt'), /src\.ckpt has 2 stack\(s\), not 3/);
    assert.throws(() => firstStacks(snapshot(source), 0, 'src.ckpt'), /positive integer/);
  } finally {
    source.dispose();
    one.dispose();
  }
});
