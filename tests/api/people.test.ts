// Finding people end to end with oracle networks: a "detector" that reports each bright blob of its input as a
// person (through the real target encoding, so the real decoding, letterboxing, tiling and suppression run), and a
// pose "model" whose joints all sit at the crop's brightness centroid. Several people, their order and limits,
// no person, given boxes, no detector, a huge image, and bad boxes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import type { Tensor, Tensor4D } from '../../src/tf.js';
import { HourglassModel } from '../../src/model/model.js';
import { Ensemble } from '../../src/inference/ensemble.js';
import { createEstimator, type RawImage } from '../../src/api/estimator.js';
import { encodeTargets, CHANNELS } from '../../src/detect/codec.js';
import type { Rect } from '../../src/detect/raster.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { REFINE_PASSES, estimateInRaster } from '../../src/api/people.js';
import { rasterFromRaw } from '../../src/api/pose.js';
import { LSP14 } from '../../src/data/skeletons/lsp.js';
import { flipPermutation } from '../../src/data/skeletons/types.js';
import { saveModel } from '../../src/model/checkpoint.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DET = { stacks: 1, features: 8, modules: 1, joints: CHANNELS, inputSize: 64, depth: 1 };
const POSE = { stacks: 1, features: 8, modules: 1, joints: 14, inputSize: 64, depth: 1 };
const centre = (p: { box: { x: number; width: number } }) => p.box.x + (p.box.width - 1) / 2;

/** Blobs of bright pixels (grey > 0.2) told apart by empty columns: boxes and brightness. */
function blobs(pixels: Float32Array, s: number): { box: Rect; level: number }[] {
  const found: { box: Rect; level: number }[] = [];
  let current: { x0: number; x1: number; y0: number; y1: number; level: number } | null = null;
  for (let x = 0; x <= s; x++) {
    let any = false;
    for (let y = 0; y < s && x < s; y++) {
      const o = (y * s + x) * 3;
      const v = (pixels[o] + pixels[o + 1] + pixels[o + 2]) / 3;
      if (v > 0.2) {
        any = true;
        current ??= { x0: x, x1: x, y0: y, y1: y, level: 0 };
        current.x1 = x;
        current.y0 = Math.min(current.y0, y);
        current.y1 = Math.max(current.y1, y);
        current.level = Math.max(current.level, v);
      }
    }
    if (!any && current) {
      found.push({ box: { x: current.x0, y: current.y0, width: current.x1 - current.x0 + 1, height: current.y1 - current.y0 + 1 }, level: current.level });
      current = null;
    }
  }
  return found;
}

function oracleDetector(): HourglassModel {
  const model = HourglassModel.create(DET, 1);
  const s = DET.inputSize;
  const g = s / 4;
  model.predict = (images: Tensor4D) => {
    const n = images.shape[0];
    const data = images.dataSync() as Float32Array;
    const out = new Float32Array(n * g * g * CHANNELS);
    for (let i = 0; i < n; i++) {
      const found = blobs(data.subarray(i * s * s * 3, (i + 1) * s * s * 3), s);
      const { targets } = encodeTargets(found.map((b) => b.box), g);
      // The centre heat scaled by the blob's brightness, so a dim blob is a less sure person.
      for (const b of found) {
        const ci = Math.round((b.box.x + b.box.width / 2 - 2) / 4);
        const cj = Math.round((b.box.y + b.box.height / 2 - 2) / 4);
        for (let j = Math.max(0, cj - 3); j <= Math.min(g - 1, cj + 3); j++) {
          for (let k = Math.max(0, ci - 3); k <= Math.min(g - 1, ci + 3); k++) targets[(j * g + k) * CHANNELS] *= b.level;
        }
      }
      out.set(targets, i * g * g * CHANNELS);
    }
    return tf.tensor4d(out, [n, g, g, CHANNELS]) as Tensor4D;
  };
  return model;
}

/**
 * Joints at the corners of the crop's bright rectangle: the first half at its top-left, the rest at its bottom-right
 * (mean -/+ sqrt(3) standard deviations of the bright pixels' positions: a uniform rectangle's first and last pixels).
 */
function cornersPose(): HourglassModel {
  const model = HourglassModel.create(POSE, 2);
  const s = POSE.inputSize;
  const h = s / 4;
  const half = POSE.joints / 2;
  model.predict = (images: Tensor4D) => tf.tidy(() => {
    const n = images.shape[0];
    const grey = tf.reshape(tf.sum(images, 3), [n, s * s]);
    const w = tf.div(grey, tf.add(tf.sum(grey, 1, true), 1e-6));
    const xs = tf.tile(tf.range(0, s), [s]);
    const ys = tf.reshape(tf.tile(tf.reshape(tf.range(0, s), [s, 1]), [1, s]), [s * s]);
    const moments = (v: Tensor) => {
      const mean = tf.sum(tf.mul(w, v), 1);
      const sd = tf.sqrt(tf.relu(tf.sub(tf.sum(tf.mul(w, tf.square(v)), 1), tf.square(mean))));
      return { mean, reach: tf.mul(sd, Math.sqrt(3)) };
    };
    const mx = moments(xs);
    const my = moments(ys);
    const toCell = (v: Tensor) => tf.reshape(tf.sub(tf.div(tf.add(v, 0.5), 4), 0.5), [n, 1, 1, 1]);
    const peak = (cx: Tensor, cy: Tensor) => {
      const d2 = tf.add(tf.square(tf.sub(tf.reshape(tf.range(0, h), [1, 1, h, 1]), toCell(cx))), tf.square(tf.sub(tf.reshape(tf.range(0, h), [1, h, 1, 1]), toCell(cy))));
      return tf.tile(tf.exp(tf.mul(d2, -0.5)), [1, 1, 1, half]);
    };
    return tf.concat([peak(tf.sub(mx.mean, mx.reach), tf.sub(my.mean, my.reach)), peak(tf.add(mx.mean, mx.reach), tf.add(my.mean, my.reach))], 3) as Tensor4D;
  });
  return model;
}

/** A black image with filled rectangles of the given grey levels (0-255). */
function image(width: number, height: number, rects: { x: number; y: number; w: number; h: number; level: number }[]): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (const r of rects) {
    for (let y = r.y; y < r.y + r.h; y++) for (let x = r.x; x < r.x + r.w; x++) data.fill(r.level, (y * width + x) * 3, (y * width + x) * 3 + 3);
  }
  return { data, width, height, channels: 3 };
}

async function estimators() {
  return {
    withDetector: await createEstimator({ model: cornersPose(), detector: oracleDetector(), backend: 'cpu' }),
    without: await createEstimator({ model: cornersPose(), detector: false, backend: 'cpu' }),
  };
}

test('two people are found, best score first, each with its own box and keypoints; limits apply', async () => {
  const { withDetector: est } = await estimators();
  // A dim person on the left, a bright one on the right (90x60: searched whole, no tiles).
  const img = image(90, 60, [{ x: 10, y: 10, w: 14, h: 40, level: 120 }, { x: 55, y: 15, w: 16, h: 36, level: 250 }]);
  const pose = await est.estimatePose(img, { flipTest: false });
  assert.equal(pose.people.length, 2, JSON.stringify(pose.people.map((p) => p.box)));
  const [first, second] = pose.people;
  assert.ok(first.score > second.score);
  // The boxes are the keypoints' boxes: the rectangles' first to last pixels.
  assert.ok(Math.abs(centre(first) - 62.5) < 1.5 && Math.abs(centre(second) - 16.5) < 1.5, `${centre(first)}, ${centre(second)}`);
  assert.ok(Math.abs(first.box.height - 36) < 3 && Math.abs(second.box.height - 40) < 3, JSON.stringify(pose.people.map((p) => p.box)));
  for (const p of pose.people) {
    assert.ok(Math.abs(p.keypoints[0].x - p.box.x) < 2 && Math.abs(p.keypoints[13].y - (p.box.y + p.box.height - 1)) < 2, JSON.stringify(p));
  }
  assert.deepEqual(pose.keypoints, first.keypoints);
  assert.deepEqual(pose.box, first.box);
  assert.equal((await est.estimatePose(img, { maxPeople: 1 })).people.length, 1);
  const sure = await est.estimatePose(img, { minPersonScore: 0.7 });
  assert.equal(sure.people.length, 1);
  assert.ok(Math.abs(centre(sure.people[0]) - 62.5) < 1.5);
  est.dispose();
});

test('each kept person is re-cropped on their keypoints REFINE_PASSES times (no flip test) before the final run', async () => {
  const model = cornersPose();
  const predict = model.predict.bind(model);
  let calls = 0;
  model.predict = (images: Tensor4D) => {
    calls += images.shape[0];
    return predict(images);
  };
  const est = await createEstimator({ model, detector: oracleDetector(), backend: 'cpu' });
  const img = image(90, 60, [{ x: 55, y: 15, w: 16, h: 36, level: 250 }]);
  const pose = await est.estimatePose(img);
  assert.equal(pose.people.length, 1);
  // One check of the candidate, the re-crops, then the final run with the flip test (the crop and its mirror).
  assert.equal(calls, 1 + REFINE_PASSES + 2);
  assert.ok(Math.abs(centre(pose.people[0]) - 62.5) < 1.5 && Math.abs(pose.people[0].box.height - 36) < 3, JSON.stringify(pose.people[0].box));
  est.dispose();
});

test('the search checks and re-crops with its own pose network when there is one; the final run is the model\'s', async () => {
  const counting = () => {
    const model = cornersPose();
    const predict = model.predict.bind(model);
    const seen = { calls: 0 };
    model.predict = (images: Tensor4D) => {
      seen.calls += images.shape[0];
      return predict(images);
    };
    return { model, seen };
  };
  const final = counting();
  const search = counting();
  const nets = { model: final.model, searchModel: search.model, skeleton: LSP14, flipPerm: flipPermutation(LSP14), detector: oracleDetector() };
  const img = image(90, 60, [{ x: 55, y: 15, w: 16, h: 36, level: 250 }]);
  const pose = await estimateInRaster(nets, rasterFromRaw(img));
  assert.equal(pose.people.length, 1);
  assert.equal(search.seen.calls, 1 + REFINE_PASSES);
  assert.equal(final.seen.calls, 2);
  for (const m of [final.model, search.model, nets.detector]) m.dispose();
});

test('the estimator gives the search the bundled lsp14 for other LSP-14 models loaded from files, with the bundled detector only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hg-search-'));
  const file = join(dir, 'mine.ckpt');
  const mine = HourglassModel.create(POSE, 3);
  await saveModel(file, mine, { meta: { skeleton: 'lsp14' } });
  const cases: [Parameters<typeof createEstimator>[0], boolean][] = [
    [{ model: file }, true],
    [{ model: `lsp14,${file}` }, true],
    [{ model: 'lsp14-ensemble' }, true],
    [{ model: 'lsp14-256' }, true],
    [{ model: 'lsp14' }, false],
    [{ model: file, detector: false }, false],
    [{ model: mine }, false],
    [{ model: 'flic' }, false],
  ];
  for (const [options, searches] of cases) {
    const est = await createEstimator({ ...options, backend: 'cpu' });
    assert.equal(est.searchModel !== null, searches, JSON.stringify({ ...options, model: String(options?.model) }));
    // An ensemble holding lsp14 lends the search that member instead of loading lsp14 a second time.
    if (options?.model === `lsp14,${file}` || options?.model === 'lsp14-ensemble') {
      assert.ok(est.model instanceof Ensemble);
      assert.equal(est.searchModel, est.model.members[0]);
    }
    est.dispose();
  }
  mine.dispose();
});

test('no person: people [] and no keypoints; without a detector the person fills the image as before', async () => {
  const { withDetector, without } = await estimators();
  const black = image(80, 50, []);
  const none = await withDetector.estimatePose(black);
  assert.deepEqual(none.people, []);
  assert.deepEqual(none.keypoints, []);
  assert.deepEqual(none.box, { x: 0, y: 0, width: 80, height: 50 });
  const img = image(80, 50, [{ x: 30, y: 10, w: 10, h: 30, level: 255 }]);
  const whole = await without.estimatePose(img);
  assert.deepEqual(whole.box, { x: 0, y: 0, width: 80, height: 50 });
  assert.equal(whole.people.length, 1);
  assert.equal(whole.people[0].score, 1);
  assert.equal(whole.keypoints.length, 14);
  withDetector.dispose();
  without.dispose();
});

test('a huge image is searched shrunk: a person in a 2400x1600 image is found at its place', async () => {
  const { withDetector: est } = await estimators();
  const img = image(2400, 1600, [{ x: 1500, y: 400, w: 200, h: 600, level: 255 }]);
  const pose = await est.estimatePose(img, { flipTest: false });
  assert.equal(pose.people.length, 1, JSON.stringify(pose.people.map((p) => p.box)));
  const b = pose.people[0].box;
  assert.ok(Math.abs(b.x + b.width / 2 - 1600) < 30 && Math.abs(b.y + b.height / 2 - 700) < 30, JSON.stringify(b));
  assert.ok(Math.abs(b.height - 600) < 60, JSON.stringify(b));
  est.dispose();
});

test('given boxes: one pose each, sorted by their scores and filtered; bad boxes are errors naming them', async () => {
  const { withDetector: est } = await estimators();
  const img = image(90, 60, [{ x: 10, y: 10, w: 14, h: 40, level: 200 }, { x: 55, y: 15, w: 16, h: 36, level: 200 }]);
  const pose = await est.estimatePose(img, { flipTest: false, boxes: [{ x: 10, y: 10, width: 14, height: 40, score: 0.4 }, [55, 15, 16, 36], { x: 0, y: 0, width: 5, height: 5, score: 0.1 }], minPersonScore: 0.2 });
  assert.deepEqual(pose.people.map((p) => p.score), [1, 0.4]);
  assert.deepEqual(pose.people[0].box, { x: 55, y: 15, width: 16, height: 36 });
  assert.ok(pose.people[0].keypoints.every((k) => Math.abs(k.x - 62.5) < 9) && Math.abs(pose.people[0].keypoints[0].x - 55) < 2);
  assert.ok(pose.people[1].keypoints.every((k) => Math.abs(k.x - 16.5) < 8) && Math.abs(pose.people[1].keypoints[13].x - 23) < 2, JSON.stringify(pose.people[1]));
  assert.deepEqual((await est.estimatePose(img, { boxes: [] })).people, []);
  await assert.rejects(est.estimatePose(img, { boxes: [[1, 1, 5, 5], [100, 1, 5, 5]] }),
    (e: Error) => e instanceof InvalidArgumentError && /boxes\[1\] 100,1,5,5 lies outside the 90x60 image/.test(e.message));
  await assert.rejects(est.estimatePose(img, { box: [1, 1, 5, 5], boxes: [] }), (e: Error) => e instanceof InvalidArgumentError && /either box or boxes/.test(e.message));
  await assert.rejects(est.estimatePose(img, { maxPeople: 0 }), (e: Error) => e instanceof InvalidArgumentError && /maximum number of people/.test(e.message));
  await assert.rejects(est.estimatePose(img, { minPersonScore: 2 }), (e: Error) => e instanceof InvalidArgumentError && /minimum person score/.test(e.message));
  est.dispose();
});
