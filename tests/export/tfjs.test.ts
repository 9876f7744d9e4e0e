// TF.js LayersModel export (src/export/tfjs.ts): the written model.json + weights.bin load with the stock
// tf.loadLayersModel and predict what HourglassModel.predict predicts, batch norms (folded or not) included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tfjs from '@tensorflow/tfjs';
import { tf } from '../../src/tf.js';
import type { Tensor4D } from '../../src/tf.js';
import { HourglassModel } from '../../src/model/model.js';
import type { HourglassConfig } from '../../src/model/config.js';
import { exportTfjs, exportedSkeleton, loadTfjsExport, toLayersModel } from '../../src/export/tfjs.js';
import { LSP14 } from '../../src/data/skeletons/lsp.js';
import { useCpu } from '../helpers.js';
import { randomiseBatchNorms, relativeError } from '../model/random-bn.js';

function tinyModel(config: Partial<HourglassConfig>, seed: number): HourglassModel {
  const model = HourglassModel.create(config, seed);
  randomiseBatchNorms(model, seed * 1000);
  return model;
}

/** Loads an export the way any TF.js user would: model.json + its weight files through tf.io.fromMemory. */
async function loadWithStockApi(dir: string): Promise<tfjs.LayersModel> {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tfjs.io.ModelJSON;
  assert.equal(json.format, 'layers-model');
  const paths = json.weightsManifest.flatMap((g) => g.paths);
  const buffers = paths.map((p) => {
    const b = readFileSync(join(dir, p));
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  });
  return tfjs.loadLayersModel(tfjs.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: tfjs.io.CompositeArrayBuffer.join(buffers),
  }));
}

function predictBoth(model: HourglassModel, loaded: tfjs.LayersModel, batch: number, seed: number): { expected: Float32Array; actual: Float32Array; shape: number[] } {
  const s = model.config.inputSize;
  return tf.tidy(() => {
    const x = tf.randomUniform([batch, s, s, 3], 0, 1, 'float32', seed) as Tensor4D;
    const want = model.predict(x);
    const got = loaded.predict(x) as tfjs.Tensor;
    assert.deepEqual(got.shape, want.shape);
    return { expected: want.dataSync() as Float32Array, actual: got.dataSync() as Float32Array, shape: got.shape };
  });
}

const CASES: [string, Partial<HourglassConfig>][] = [
  ['1 stack, depth 2', { stacks: 1, features: 16, joints: 3, inputSize: 64, depth: 2 }],
  ['2 stacks (merge path), depth 3, 2 modules per step', { stacks: 2, features: 16, joints: 5, inputSize: 64, depth: 3, modules: 2 }],
];

for (const [label, config] of CASES) {
  test(`export -> tf.loadLayersModel predicts what HourglassModel.predict does (${label})`, async () => {
    await useCpu();
    const model = tinyModel(config, 7);
    const dir = mkdtempSync(join(tmpdir(), 'hg-tfjs-'));
    try {
      const result = await exportTfjs(model, dir);
      assert.deepEqual(result.files.map((f) => f.slice(dir.length + 1)).sort(), ['hourglass.json', 'model.json', 'weights.bin']);
      assert.deepEqual(readdirSync(dir).sort(), ['hourglass.json', 'model.json', 'weights.bin'], 'no temporary files left');
      const loaded = await loadWithStockApi(dir);
      try {
        const { expected, actual, shape } = predictBoth(model, loaded, 2, 11);
        const s = model.config.inputSize / 4;
        assert.deepEqual(shape, [2, s, s, model.config.joints]);
        const err = relativeError(actual, expected);
        assert.ok(err <= 1e-4, `relative error ${err}`);
        // The comparison can fail: an unfolded BN (identity stats ignored) or a missing stack would be far off.
        const unrandomised = HourglassModel.create(config, 7);
        try {
          const other = tf.tidy(() => unrandomised.predict(tf.randomUniform([2, model.config.inputSize, model.config.inputSize, 3], 0, 1, 'float32', 11) as Tensor4D).dataSync());
          assert.ok(relativeError(other, expected) > 1e-2, 'batch-norm statistics must matter in this test');
        } finally {
          unrandomised.dispose();
        }
      } finally {
        loaded.dispose();
      }
    } finally {
      model.dispose();
    }
  });
}

test('the in-memory layers model is the same network, standard layers only, one output', async () => {
  await useCpu();
  const model = tinyModel({ stacks: 2, features: 16, joints: 3, inputSize: 64, depth: 2 }, 3);
  const layers = toLayersModel(model);
  try {
    assert.equal(layers.inputs.length, 1);
    assert.deepEqual(layers.inputs[0].shape, [null, 64, 64, 3]);
    assert.equal(layers.outputs.length, 1);
    assert.deepEqual(layers.outputs[0].shape, [null, 16, 16, 3]);
    const classes = new Set(layers.layers.map((l) => l.getClassName()));
    const standard = ['InputLayer', 'ZeroPadding2D', 'Conv2D', 'BatchNormalization', 'Activation', 'MaxPooling2D', 'UpSampling2D', 'Add'];
    for (const c of classes) assert.ok(standard.includes(c), `non-standard layer ${c}`);
    // Folding keeps exactly one BatchNormalization per residual (its BN1); stem, head and BN2/BN3 are in the convs.
    // Residuals: 3 stem + per stack (up, low1, low3) x depth 2 + bottom + head = 8 per stack.
    const bns = layers.layers.filter((l) => l.getClassName() === 'BatchNormalization').length;
    assert.equal(bns, 3 + 2 * 8);
    const x = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 1) as Tensor4D;
    const err = tf.tidy(() => relativeError((layers.predict(x) as tfjs.Tensor).dataSync(), model.predict(x).dataSync()));
    assert.ok(err <= 1e-4, `relative error ${err}`);
    x.dispose();
  } finally {
    layers.dispose();
    model.dispose();
  }
});

test('hourglass.json and model.json carry the config, the joint names and the conventions; loadTfjsExport reads the folder', async () => {
  await useCpu();
  const model = tinyModel({ stacks: 1, features: 8, joints: 14, inputSize: 64, depth: 2 }, 5);
  const dir = join(mkdtempSync(join(tmpdir(), 'hg-tfjs-')), 'nested', 'out');
  try {
    const result = await exportTfjs(model, dir, { meta: { skeleton: LSP14 } });
    const info = JSON.parse(readFileSync(join(dir, 'hourglass.json'), 'utf8')) as {
      config: HourglassConfig; skeleton: { id: string; joints: string[] }; input: { shape: unknown[]; layout: string }; output: { shape: unknown[] };
    };
    assert.deepEqual(info.config, model.config);
    assert.equal(info.skeleton.id, 'lsp14');
    assert.deepEqual(info.skeleton.joints, LSP14.joints);
    assert.deepEqual(info.input.shape, [null, 64, 64, 3]);
    assert.equal(info.input.layout, 'NHWC');
    assert.deepEqual(info.output.shape, [null, 16, 16, 14]);
    const bytes = ['model.json', 'weights.bin', 'hourglass.json'].reduce((n, f) => n + readFileSync(join(dir, f)).byteLength, 0);
    assert.equal(result.bytes, bytes);
    const loaded = await loadTfjsExport(dir);
    try {
      const meta = loaded.getUserDefinedMetadata() as { hourglass: { config: HourglassConfig } };
      assert.deepEqual(meta.hourglass.config, model.config);
      const { expected, actual } = predictBoth(model, loaded, 1, 3);
      assert.ok(relativeError(actual, expected) <= 1e-4);
    } finally {
      loaded.dispose();
    }
    // Weight bytes: every float32 of the manifest, nothing more.
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tfjs.io.ModelJSON;
    const floats = json.weightsManifest[0].weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
    assert.equal(readFileSync(join(dir, 'weights.bin')).byteLength, 4 * floats);
  } finally {
    model.dispose();
  }
});

test("precision 'float16' halves weights.bin with TF.js's own float16 entries, and the stock loader predicts the same heatmaps", async () => {
  await useCpu();
  const model = tinyModel({ stacks: 2, features: 16, joints: 5, inputSize: 64, depth: 2 }, 9);
  const root = mkdtempSync(join(tmpdir(), 'hg-tfjs-'));
  try {
    await exportTfjs(model, join(root, 'f32'));
    await exportTfjs(model, join(root, 'f16'), { precision: 'float16' });
    const sizes = ['f32', 'f16'].map((d) => readFileSync(join(root, d, 'weights.bin')).byteLength);
    assert.ok(sizes[1] < 0.6 * sizes[0], `weights.bin ${sizes[1]} vs ${sizes[0]} bytes`);
    const json = JSON.parse(readFileSync(join(root, 'f16', 'model.json'), 'utf8')) as tfjs.io.ModelJSON;
    const specs = json.weightsManifest.flatMap((g) => g.weights);
    for (const spec of specs) {
      assert.equal(spec.quantization?.dtype, spec.shape.length >= 2 ? 'float16' : undefined, `${spec.name} [${spec.shape.join(', ')}]`);
    }
    const loaded = await loadWithStockApi(join(root, 'f16'));
    try {
      const { expected, actual } = predictBoth(model, loaded, 2, 4);
      const err = relativeError(actual, expected);
      assert.ok(err > 0 && err < 5e-3, `float16 export: relative error ${err}`);
    } finally {
      loaded.dispose();
    }
  } finally {
    model.dispose();
  }
});

test('a second export overwrites its own files and leaves other files in the folder alone', async () => {
  await useCpu();
  const dir = mkdtempSync(join(tmpdir(), 'hg-tfjs-'));
  writeFileSync(join(dir, 'notes.txt'), 'keep me');
  const config = { stacks: 1, features: 8, joints: 2, inputSize: 64, depth: 2 };
  const a = tinyModel(config, 1);
  const b = tinyModel(config, 2);
  try {
    await exportTfjs(a, dir);
    await exportTfjs(b, dir);
    assert.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'keep me');
    assert.deepEqual(readdirSync(dir).sort(), ['hourglass.json', 'model.json', 'notes.txt', 'weights.bin']);
    const loaded = await loadWithStockApi(dir);
    try {
      const { expected, actual } = predictBoth(b, loaded, 1, 4);
      assert.ok(relativeError(actual, expected) <= 1e-4, 'the second model is the one written');
    } finally {
      loaded.dispose();
    }
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('exporting frees every tensor it made (folded weights, the layers model)', async () => {
  await useCpu();
  const model = tinyModel({ stacks: 2, features: 8, joints: 2, inputSize: 64, depth: 2 }, 4);
  try {
    await exportTfjs(model, mkdtempSync(join(tmpdir(), 'hg-tfjs-')));
    const before = tf.memory().numTensors;
    await exportTfjs(model, mkdtempSync(join(tmpdir(), 'hg-tfjs-')));
    assert.equal(tf.memory().numTensors, before);
  } finally {
    model.dispose();
  }
});

test('an export into a path that is a file is refused before anything is written', async () => {
  await useCpu();
  const file = join(mkdtempSync(join(tmpdir(), 'hg-tfjs-')), 'taken');
  writeFileSync(file, 'x');
  const model = tinyModel({ stacks: 1, features: 8, joints: 2, inputSize: 64, depth: 2 }, 1);
  try {
    await assert.rejects(exportTfjs(model, file), /exists and is not a folder/);
    assert.equal(readFileSync(file, 'utf8'), 'x');
  } finally {
    model.dispose();
  }
  assert.ok(!existsSync(join(file, 'model.json')));
});

test('exportedSkeleton: built-in id, skeleton object, or nothing', () => {
  assert.deepEqual(exportedSkeleton({ skeleton: 'lsp14' }, 14)?.joints, LSP14.joints);
  assert.equal(exportedSkeleton({ skeleton: 'lsp14' }, 16), null, 'joint count must match the heatmaps');
  assert.equal(exportedSkeleton({ skeleton: 'nope' }, 14), null);
  assert.deepEqual(exportedSkeleton({ skeleton: { id: 'mine', joints: ['a', 'b'], flipPairs: [[0, 1]], edges: [[0, 9]] } }, 2),
    { id: 'mine', joints: ['a', 'b'], flipPairs: [[0, 1]] });
  assert.equal(exportedSkeleton({ skeleton: 42 }, 2), null);
  assert.equal(exportedSkeleton({}, 2), null);
  assert.equal(exportedSkeleton(undefined, 2), null);
});
