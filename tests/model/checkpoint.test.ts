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
