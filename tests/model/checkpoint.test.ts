// Checkpoints: round trip, config restored, mismatches named, corrupt files refused, atomic writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../../src/tf.js';
import { HourglassModel } from '../../src/model/model.js';
import { saveModel, loadModel, readCheckpoint, assignWeights } from '../../src/model/checkpoint.js';
import { useCpu } from '../helpers.js';
import { predictionError, randomiseBatchNorms } from './random-bn.js';
import { asVersion1, resign, resignHeader, tensorOffset } from './ckpt-bytes.js';
import type { Tensor4D } from '@tensorflow/tfjs-core';

const CFG = { stacks: 2, features: 8, joints: 3, inputSize: 32, depth: 3 };

test('save -> load gives the same config, weights, state, metadata and predictions', async () => {
  await useCpu();
  const dir = mkdtempSync(join(tmpdir(), 'hg-ckpt-'));
  const path = join(dir, 'model.ckpt');
  const model = HourglassModel.create(CFG, 3);
  const state = new Map([['optimizer.ms.stem.conv.weight', tf.fill([2, 3], 0.5)]]);
  try {
    await saveModel(path, model, { state, meta: { step: 42, note: 'x' } });
    assert.deepEqual(readdirSync(dir), ['model.ckpt'], 'no temporary file left behind');
    const { model: loaded, checkpoint } = loadModel(path);
    try {
      assert.deepEqual(loaded.config, model.config);
      assert.deepEqual(checkpoint.meta, { step: 42, note: 'x' });
      assert.deepEqual(Array.from(checkpoint.state.get('optimizer.ms.stem.conv.weight')?.data ?? []), new Array(6).fill(0.5));
      const x = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 5) as Tensor4D;
      const a = model.predict(x);
      const b = loaded.predict(x);
      assert.deepEqual(Array.from(await a.data()), Array.from(await b.data()));
      tf.dispose([x, a, b]);
    } finally {
      loaded.dispose();
    }
  } finally {
    model.dispose();
    tf.dispose([...state.values()]);
  }
});

test('loading into a network of another shape names the first mismatched tensor', async () => {
  await useCpu();
  const dir = mkdtempSync(join(tmpdir(), 'hg-ckpt-'));
  const path = join(dir, 'a.ckpt');
  const small = HourglassModel.create(CFG);
  const other = HourglassModel.create({ ...CFG, joints: 5 });
  const fewer = HourglassModel.create({ ...CFG, stacks: 1 });
  try {
    await saveModel(path, small);
    const { weights } = readCheckpoint(path);
    assert.throws(
      () => assignWeights(other.params, weights, path),
      /tensor stack0\.head\.out\.weight has shape \[1, 1, 8, 3\], the network expects \[1, 1, 8, 5\]/,
    );
    assert.throws(() => assignWeights(fewer.params, weights, path), /tensor stack0\.mergeFeatures\.weight is not a parameter of this network/);
  } finally {
    [small, other, fewer].forEach((m) => m.dispose());
  }
});

test('corrupt or foreign files are refused with the file named', async () => {
  await useCpu();
  const dir = mkdtempSync(join(tmpdir(), 'hg-ckpt-'));
  const foreign = join(dir, 'foreign.bin');
  writeFileSync(foreign, 'hello world, not a checkpoint');
  assert.throws(() => readCheckpoint(foreign), new RegExp(`${foreign}: not an hourglass checkpoint`));
  assert.throws(() => readCheckpoint(join(dir, 'missing.ckpt')), /missing\.ckpt: checkpoint file not found/);
  const model = HourglassModel.create(CFG);
  const good = join(dir, 'good.ckpt');
  await saveModel(good, model);
  model.dispose();
  const bytes = readFileSync(good);
  const truncated = join(dir, 'truncated.ckpt');
  writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
  assert.throws(() => readCheckpoint(truncated), /truncated\.ckpt: tensor .* data truncated/);
});

test('overwriting a checkpoint replaces it whole', async () => {
  await useCpu();
  const dir = mkdtempSync(join(tmpdir(), 'hg-ckpt-'));
  const path = join(dir, 'last.ckpt');
  const a = HourglassModel.create(CFG, 1);
  const b = HourglassModel.create(CFG, 2);
  try {
    await saveModel(path, a, { meta: { which: 'a' } });
    await saveModel(path, b, { meta: { which: 'b' } });
    const ckpt = readCheckpoint(path);
    assert.deepEqual(ckpt.meta, { which: 'b' });
    assert.deepEqual(Array.from(ckpt.weights.get('stem.conv.weight')?.data ?? []), Array.from(b.params.get('stem.conv.weight').dataSync()));
    assert.deepEqual(readdirSync(dir), ['last.ckpt']);
  } finally {
    a.dispose();
    b.dispose();
  }
});

test("precision 'float16' stores kernels as float16 and the rest as float32; loading expands them", async () => {
  await useCpu();
  const dir = mkdtempSync(join(tmpdir(), 'hg-ckpt-'));
  const full = join(dir, 'full.ckpt');
  const half = join(dir, 'half.ckpt');
  // 6 features: the residuals' 3x3 kernels are [3, 3, 3, 3], an odd number of float16 values.
  const model = HourglassModel.create({ ...CFG, features: 6 }, 4);
  randomiseBatchNorms(model, 400);
  const state = new Map([['optimizer.ms.stem.conv.weight', tf.fill([2, 3], 1 / 3)]]);
  try {
    await saveModel(full, model, { state });
    await saveModel(half, model, { state, meta: { note: 'half' }, precision: 'float16' });
    const header = JSON.parse(readFileSync(half).toString('utf8', 12, 12 + readFileSync(half).readUInt32LE(8))) as {
      tensors: { name: string; group: string; shape: number[]; dtype: string; offset: number }[];
    };
    for (const e of header.tensors) {
      const want = e.group === 'weights' && e.shape.length >= 2 ? 'float16' : 'float32';
      assert.equal(e.dtype, want, `${e.name} (${e.group}, rank ${e.shape.length})`);
      assert.equal(e.offset % 4, 0, `${e.name}: aligned`);
    }
    assert.ok(header.tensors.some((e) => e.dtype === 'float16' && e.shape.reduce((a, b) => a * b, 1) % 2 === 1), 'an odd-length float16 tensor is covered');
    const sizes = [full, half].map((p) => readFileSync(p).byteLength);
    assert.ok(sizes[1] < 0.6 * sizes[0], `float16 file ${sizes[1]} bytes vs ${sizes[0]}`);

    const ckpt = readCheckpoint(half);
    assert.deepEqual(ckpt.meta, { note: 'half' });
    assert.deepEqual(Array.from(ckpt.state.get('optimizer.ms.stem.conv.weight')?.data ?? []), Array.from(new Float32Array(6).fill(1 / 3)), 'state exact');
    for (const spec of model.params.specs) {
      const original = model.params.get(spec.name).dataSync();
      const stored = ckpt.weights.get(spec.name)?.data as Float32Array;
      original.forEach((v, i) => {
        const bound = spec.shape.length >= 2 ? Math.abs(v) * 2 ** -11 + 2 ** -25 : 0;
        assert.ok(Math.abs(stored[i] - v) <= bound, `${spec.name}[${i}]: ${stored[i]} vs ${v}`);
      });
    }
    const { model: loaded } = loadModel(half);
    try {
      const err = await predictionError(model, loaded, [2, 32, 32, 3], 6);
      assert.ok(err > 0 && err < 5e-3, `float16 weights change the heatmaps by ${err} of their range`);
    } finally {
      loaded.dispose();
    }
  } finally {
    model.dispose();
    tf.dispose([...state.values()]);
  }
});

test('a tensor with an unknown dtype in the header is refused', async () => {
  await useCpu();
  const dir = mkdtempSync(join(tmpdir(), 'hg-ckpt-'));
  const good = join(dir, 'good.ckpt');
  const model = HourglassModel.create(CFG);
  await saveModel(good, model);
  model.dispose();
  const bytes = readFileSync(good);
  const length = bytes.readUInt32LE(8);
  // Same-length names keep the layout: an unknown type, and one that is a property of every object.
  for (const dtype of ['float64', 'valueOf']) {
    const text = bytes.toString('utf8', 12, 12 + length).replace('"dtype":"float32"', `"dtype":"${dtype}"`);
    const bad = join(dir, 'bad.ckpt');
    const edited = Buffer.concat([bytes.subarray(0, 12), Buffer.from(text, 'utf8'), bytes.subarray(12 + length)]);
    writeFileSync(bad, resignHeader(edited));
    assert.throws(() => readCheckpoint(bad), /bad\.ckpt: tensor .*: bad entry in header/, dtype);
  }
});

test("precision 'int8' stores kernels as 8-bit integers with a scale per output channel; loading expands them", async () => {
  await useCpu();
  const dir = mkdtempSync(join(tmpdir(), 'hg-ckpt-'));
  const full = join(dir, 'full.ckpt');
  const small = join(dir, 'int8.ckpt');
  const model = HourglassModel.create({ ...CFG, features: 6 }, 5); // odd-length kernels: padding after int8 data
  randomiseBatchNorms(model, 500);
  const state = new Map([['optimizer.ms.stem.conv.weight', tf.fill([2, 3], 1 / 3)]]);
  try {
    await saveModel(full, model, { state });
    await saveModel(small, model, { state, meta: { note: 'int8' }, precision: 'int8' });
    const header = JSON.parse(readFileSync(small).toString('utf8', 12, 12 + readFileSync(small).readUInt32LE(8))) as {
      tensors: { name: string; group: string; shape: number[]; dtype: string; offset: number }[];
    };
    for (const e of header.tensors) {
      const kernel = e.group === 'weights' && e.shape.length >= 2;
      assert.equal(e.dtype, kernel ? 'int8' : 'float32', `${e.name} (${e.group}, rank ${e.shape.length})`);
      assert.equal(e.offset % 4, 0, `${e.name}: aligned`);
    }
    const sizes = [full, small].map((p) => readFileSync(p).byteLength);
    assert.ok(sizes[1] < 0.45 * sizes[0], `int8 file ${sizes[1]} bytes vs ${sizes[0]}`);

    const ckpt = readCheckpoint(small);
    assert.deepEqual(ckpt.meta, { note: 'int8' });
    assert.deepEqual(Array.from(ckpt.state.get('optimizer.ms.stem.conv.weight')?.data ?? []), Array.from(new Float32Array(6).fill(1 / 3)), 'state exact');
    for (const spec of model.params.specs) {
      const original = model.params.get(spec.name).dataSync();
      const stored = ckpt.weights.get(spec.name)?.data as Float32Array;
      const channels = spec.shape[spec.shape.length - 1];
      const peak = new Float32Array(channels);
      original.forEach((v, i) => (peak[i % channels] = Math.max(peak[i % channels], Math.abs(v))));
      original.forEach((v, i) => {
        // half a step of the channel's 127 levels (plus float32 rounding); exact for rank-1 tensors
        const bound = spec.shape.length >= 2 ? peak[i % channels] / 254 * (1 + 1e-5) : 0;
        assert.ok(Math.abs(stored[i] - v) <= bound, `${spec.name}[${i}]: ${stored[i]} vs ${v}`);
      });
    }
    const { model: loaded } = loadModel(small);
    try {
      const err = await predictionError(model, loaded, [2, 32, 32, 3], 6);
      assert.ok(err > 0 && err < 5e-2, `int8 weights change the heatmaps by ${err} of their range`);
    } finally {
      loaded.dispose();
    }

    // int8 data whose scales (one float32 per output channel, before the 8-bit values) are unusable is refused
    const bytes = readFileSync(small);
    const length = bytes.readUInt32LE(8);
    const dataStart = 12 + length + ((8 - ((12 + length) % 8)) % 8);
    const first = header.tensors.find((e) => e.dtype === 'int8')!;
    for (const scale of [-1, NaN]) {
      const bad = join(dir, 'bad.ckpt');
      const edited = Buffer.from(bytes);
      edited.writeFloatLE(scale, dataStart + first.offset);
      writeFileSync(bad, resign(edited));
      assert.throws(() => readCheckpoint(bad), new RegExp(`bad\\.ckpt: tensor ${first.name.replace(/\./g, '\\.')}: int8 data needs .*finite scales >= 0`), String(scale));
    }
  } finally {
    model.dispose();
    tf.dispose([...state.values()]);
  }
});

test('checksums: damaged tensor data or header is an error naming the file and the tensor', async () => {
  await useCpu();
  const dir = mkdtempSync(join(tmpdir(), 'hg-ckpt-'));
  const good = join(dir, 'good.ckpt');
  const model = HourglassModel.create(CFG);
  await saveModel(good, model, { meta: { note: 'abcdef' } });
  model.dispose();
  const bytes = readFileSync(good);
  // 256 bytes flipped in the middle of the file: inside some tensor's data.
  const middle = Buffer.from(bytes);
  const at = Math.floor(middle.length / 2);
  for (let i = at; i < at + 256; i++) middle[i] ^= 0xff;
  const damaged = join(dir, 'damaged.ckpt');
  writeFileSync(damaged, middle);
  assert.throws(() => readCheckpoint(damaged), /damaged\.ckpt: tensor \S+: checksum mismatch/);
  // One character of the metadata changed (still valid JSON): the header's own checksum.
  const length = bytes.readUInt32LE(8);
  const text = bytes.toString('utf8', 12, 12 + length).replace('abcdef', 'abcdeg');
  const header = join(dir, 'header.ckpt');
  writeFileSync(header, Buffer.concat([bytes.subarray(0, 12), Buffer.from(text, 'utf8'), bytes.subarray(12 + length)]));
  assert.throws(() => readCheckpoint(header), /header\.ckpt: checksum mismatch in the header/);
  // A cut-off file names the first tensor it cannot hold.
  const cut = join(dir, 'cut.ckpt');
  writeFileSync(cut, bytes.subarray(0, at));
  assert.throws(() => readCheckpoint(cut), /cut\.ckpt: tensor \S+: data truncated/);
  // The intact file still loads.
  assert.equal(readCheckpoint(good).meta.note, 'abcdef');
});

test('non-finite values: never written, and refused on reading with the tensor named', async () => {
  await useCpu();
  const dir = mkdtempSync(join(tmpdir(), 'hg-ckpt-'));
  const path = join(dir, 'last.ckpt');
  const model = HourglassModel.create(CFG);
  try {
    await saveModel(path, model, { meta: { which: 'good' } });
    const before = readFileSync(path);
    const name = model.params.specs[0].name;
    model.params.update(name, tf.fill(model.params.specs[0].shape as number[], NaN));
    await assert.rejects(saveModel(path, model), new RegExp(`not writing .*last\\.ckpt: weight tensor ${name.replace(/\./g, '\\.')} holds NaN`));
    assert.deepEqual(readFileSync(path), before, 'the existing checkpoint is untouched');
    assert.deepEqual(readdirSync(dir), ['last.ckpt'], 'no temporary file left');
    // A NaN written into a file whose checksums are then made to match (as a buggy writer would).
    const edited = Buffer.from(before);
    edited.writeFloatLE(Infinity, tensorOffset(edited, name) + 4);
    const bad = join(dir, 'bad.ckpt');
    writeFileSync(bad, resign(edited));
    assert.throws(() => readCheckpoint(bad), new RegExp(`bad\\.ckpt: tensor ${name.replace(/\./g, '\\.')} holds Infinity at element 1`));
  } finally {
    model.dispose();
  }
});

test('version 1 files (written before checksums) still load, with the same values', async () => {
  await useCpu();
  const dir = mkdtempSync(join(tmpdir(), 'hg-ckpt-'));
  const v2 = join(dir, 'v2.ckpt');
  const v1 = join(dir, 'v1.ckpt');
  const model = HourglassModel.create(CFG, 3);
  await saveModel(v2, model, { meta: { k: 1 } });
  model.dispose();
  writeFileSync(v1, asVersion1(readFileSync(v2)));
  const a = readCheckpoint(v2);
  const b = readCheckpoint(v1);
  assert.deepEqual(b.meta, a.meta);
  for (const [name, t] of a.weights) assert.deepEqual(Array.from(b.weights.get(name)?.data ?? []), Array.from(t.data), name);
});
