// The estimator end to end, with a "model" whose heatmaps peak where the input crop is brightest: a bright dot
// placed at a known pixel must come back at that pixel, through the box, crop, flip test, decoding and the
// inverse crop; every image input form must give the same answer; bad input must fail with a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { tf } from '../../src/tf.js';
import type { Tensor, Tensor4D } from '../../src/tf.js';
import { HourglassModel } from '../../src/model/model.js';
import { saveModel } from '../../src/model/checkpoint.js';
import { createEstimator, type RawImage } from '../../src/api/estimator.js';
import { LSP14 } from '../../src/data/skeletons/lsp.js';
import { FileFormatError, InvalidArgumentError } from '../../src/errors.js';

const CONFIG = { stacks: 1, features: 8, modules: 1, joints: 14, inputSize: 64, depth: 1 };

/**
 * A real model object whose predict() is replaced by an oracle: every joint's heatmap is a sigma-1 Gaussian at the
 * brightness centroid of the input crop, in heatmap coordinates (pixel centres at integers on both grids:
 * x_heatmap = (x_input + 0.5) / 4 - 0.5). Decoding it is exact to a quarter cell at worst (the quarter step, which
 * the decoder falls back to near the border; elsewhere its Taylor step finds a Gaussian's centre exactly).
 */
function brightSpotModel(): HourglassModel {
  const model = HourglassModel.create(CONFIG, 1);
  const s = CONFIG.inputSize;
  const h = s / 4;
  model.predict = (images: Tensor4D) => tf.tidy(() => {
    const n = images.shape[0];
    const grey = tf.reshape(tf.sum(images, 3), [n, s * s]); // [N, S*S]
    const w = tf.div(grey, tf.sum(grey, 1, true));
    const xs = tf.tile(tf.range(0, s), [s]);
    const ys = tf.reshape(tf.tile(tf.reshape(tf.range(0, s), [s, 1]), [1, s]), [s * s]);
    const toHeatmap = (c: Tensor) => tf.sub(tf.div(tf.add(c, 0.5), 4), 0.5);
    const cx = tf.reshape(toHeatmap(tf.sum(tf.mul(w, xs), 1)), [n, 1, 1, 1]);
    const cy = tf.reshape(toHeatmap(tf.sum(tf.mul(w, ys), 1)), [n, 1, 1, 1]);
    const gx = tf.reshape(tf.range(0, h), [1, 1, h, 1]);
    const gy = tf.reshape(tf.range(0, h), [1, h, 1, 1]);
    const d2 = tf.add(tf.square(tf.sub(gx, cx)), tf.square(tf.sub(gy, cy)));
    return tf.tile(tf.exp(tf.mul(d2, -0.5)), [1, 1, 1, CONFIG.joints]) as Tensor4D;
  });
  return model;
}

/** A black RGB image with a 3x3 white dot centred at (x, y). */
function dotImage(width: number, height: number, x: number, y: number, channels = 3): RawImage {
  const data = new Uint8Array(width * height * channels);
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const i = ((y + dy) * width + (x + dx)) * channels;
      for (let c = 0; c < Math.min(channels, 3); c++) data[i + c] = 255;
      if (channels === 4) data[i + 3] = 255;
    }
  }
  if (channels === 4) for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return { data, width, height, channels };
}

/** A third of a heatmap cell in original pixels: the oracle's decoding is exact to a quarter cell at worst. */
function tolerance(side: number): number {
  return side / (CONFIG.inputSize / 4) / 3;
}

test('a dot at a known pixel comes back at that pixel (whole image, flip test on and off)', async () => {
  const est = await createEstimator({ model: brightSpotModel(), backend: 'cpu', skeleton: LSP14, detector: false });
  try {
    for (const [flipTest, x, y] of [[true, 150, 40], [false, 150, 40], [true, 30, 100], [false, 175, 20]] as const) {
      const pose = await est.estimatePose(dotImage(200, 120, x, y), { flipTest });
      assert.deepEqual(pose.imageSize, { width: 200, height: 120 });
      assert.deepEqual(pose.box, { x: 0, y: 0, width: 200, height: 120 });
      assert.equal(pose.keypoints.length, 14);
      assert.deepEqual(pose.keypoints.map((k) => k.name), LSP14.joints);
      for (const k of pose.keypoints) {
        assert.ok(Math.abs(k.x - x) <= tolerance(200) && Math.abs(k.y - y) <= tolerance(200), `flip ${flipTest}, dot (${x}, ${y}): ${k.name} at (${k.x}, ${k.y})`);
        assert.ok(k.score > 0);
      }
    }
  } finally {
    est.dispose();
  }
});

test('the multi-scale test: scales [1] is the default exactly; other crop sizes still find the dot at its pixel', async () => {
  const est = await createEstimator({ model: brightSpotModel(), backend: 'cpu', skeleton: LSP14, detector: false });
  try {
    const image = dotImage(200, 120, 30, 100);
    const plain = await est.estimatePose(image);
    assert.deepEqual(await est.estimatePose(image, { scales: [1] }), plain);
    for (const scales of [[0.8, 1, 1.25], [1, 1.2]]) {
      const pose = await est.estimatePose(image, { scales });
      for (const k of pose.keypoints) assert.ok(Math.abs(k.x - 30) <= tolerance(200) && Math.abs(k.y - 100) <= tolerance(200), `scales ${scales}: ${k.name} at (${k.x}, ${k.y})`);
    }
    await assert.rejects(est.estimatePose(image, { scales: [0.9, 1.1] }), (e: Error) => e instanceof InvalidArgumentError && /must include 1/.test(e.message));
  } finally {
    est.dispose();
  }
});

test('a box crops around the person: the dot is found at its pixel, box given as object or array', async () => {
  const est = await createEstimator({ model: brightSpotModel(), backend: 'cpu', skeleton: LSP14, detector: false });
  try {
    const image = dotImage(300, 200, 40, 150);
    // A second dot outside the box's crop must not matter.
    const far = dotImage(300, 200, 250, 30);
    const data = image.data.map((v, i) => Math.max(v, far.data[i]));
    const both = { ...image, data };
    for (const box of [{ x: 10, y: 110, width: 60, height: 80 }, [10, 110, 60, 80] as const]) {
      const pose = await est.estimatePose(both, { box });
      assert.deepEqual(pose.box, { x: 10, y: 110, width: 60, height: 80 });
      const tol = tolerance(80 * 1.25);
      for (const k of pose.keypoints) assert.ok(Math.abs(k.x - 40) <= tol && Math.abs(k.y - 150) <= tol, `${k.name} at (${k.x}, ${k.y})`);
    }
  } finally {
    est.dispose();
  }
});

test('every image input form gives the same pose: path, encoded buffer, raw grey/RGB/RGBA/float, tensors', async () => {
  const est = await createEstimator({ model: brightSpotModel(), backend: 'cpu', skeleton: LSP14, detector: false });
  const dir = mkdtempSync(join(tmpdir(), 'hg-est-'));
  try {
    const rgb = dotImage(90, 70, 30, 50);
    const png = await sharp(Buffer.from(rgb.data), { raw: { width: 90, height: 70, channels: 3 } }).png().toBuffer();
    const webp = await sharp(png).webp({ lossless: true }).toBuffer();
    writeFileSync(join(dir, 'dot.png'), png);
    const grey = dotImage(90, 70, 30, 50, 1);
    const rgba = dotImage(90, 70, 30, 50, 4);
    const float = { data: Float32Array.from(rgb.data, (v) => v / 255), width: 90, height: 70 };
    const reference = await est.estimatePose(rgb);
    const inputs: [string, Parameters<typeof est.estimatePose>[0]][] = [
      ['path', join(dir, 'dot.png')], ['png buffer', png], ['webp buffer', webp], ['grey', grey], ['rgba', rgba], ['float', float],
      ['int32 tensor', tf.tensor3d(Int32Array.from(rgb.data), [70, 90, 3], 'int32')],
      ['float tensor', tf.tensor3d(float.data, [70, 90, 3])],
    ];
    for (const [what, input] of inputs) {
      const pose = await est.estimatePose(input);
      pose.keypoints.forEach((k, i) => {
        assert.ok(Math.abs(k.x - reference.keypoints[i].x) < 1e-3 && Math.abs(k.y - reference.keypoints[i].y) < 1e-3, `${what}: ${k.name}`);
      });
    }
  } finally {
    est.dispose();
  }
});

test('bad images and boxes fail with errors that say what is wrong', async () => {
  const est = await createEstimator({ model: brightSpotModel(), backend: 'cpu', skeleton: LSP14, detector: false });
  try {
    await assert.rejects(est.estimatePose('/nonexistent/person.jpg'), (e: Error) => e instanceof FileFormatError && /person\.jpg: image file not found/.test(e.message));
    await assert.rejects(est.estimatePose(Buffer.from('not an image at all')), (e: Error) => e instanceof FileFormatError && /not a readable image/.test(e.message));
    await assert.rejects(est.estimatePose({ data: new Uint8Array(10), width: 4, height: 4 }), /10 values for 4x4 pixels/);
    await assert.rejects(est.estimatePose({ data: new Float32Array(12).fill(3), width: 2, height: 2 }), /must be in \[0, 1\], found 3/);
    await assert.rejects(est.estimatePose(tf.zeros([4, 4])), /\[height, width, channels\]/);
    await assert.rejects(est.estimatePose(tf.fill([2, 2, 3], 300, 'int32')), /0-255, found 300/);
    await assert.rejects(est.estimatePose(42 as never), InvalidArgumentError);
    const img = dotImage(50, 50, 25, 25);
    await assert.rejects(est.estimatePose(img, { box: { x: 60, y: 0, width: 10, height: 10 } }), /outside the 50x50 image/);
    await assert.rejects(est.estimatePose(img, { box: [0, 0, 0, 10] }), /at least 1 pixel/);
    await assert.rejects(est.estimatePose(img, { box: [0, 0, Number.NaN, 10] }), /four finite numbers/);
  } finally {
    est.dispose();
  }
});

test('the skeleton comes from the checkpoint; a model passed in is not disposed; a disposed estimator refuses work', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hg-est-'));
  const model = HourglassModel.create(CONFIG, 3);
  const custom = { ...LSP14, id: 'custom14', joints: LSP14.joints.map((j) => `my_${j}`) };
  await saveModel(join(dir, 'with.ckpt'), model, { meta: { skeleton: custom } });
  await saveModel(join(dir, 'without.ckpt'), model);
  const withSkeleton = await createEstimator({ model: join(dir, 'with.ckpt'), backend: 'cpu', detector: false });
  assert.equal(withSkeleton.skeleton.id, 'custom14');
  const pose = await withSkeleton.estimatePose(dotImage(64, 64, 10, 10));
  assert.equal(pose.keypoints[0].name, 'my_right_ankle');
  withSkeleton.dispose();
  await assert.rejects(withSkeleton.estimatePose(dotImage(64, 64, 10, 10)), /disposed/);
  const fallback = await createEstimator({ model: join(dir, 'without.ckpt'), backend: 'cpu' });
  assert.equal(fallback.skeleton.id, 'lsp14'); // 14 joints: the built-in LSP skeleton
  fallback.dispose();
  await assert.rejects(createEstimator({ model, backend: 'cpu', skeleton: { ...LSP14, joints: ['a', 'b'] } }), /2 joints, the model 14/);
  const borrowed = await createEstimator({ model, backend: 'cpu' });
  borrowed.dispose();
  assert.equal(model.predict(tf.zeros([1, 64, 64, 3]) as Tensor4D).shape[3], 14); // still usable
  model.dispose();
  await assert.rejects(createEstimator({ model: join(dir, 'missing.ckpt'), backend: 'cpu' }), /missing\.ckpt/);
});
