// The multi-scale test's pieces (src/inference/multi-scale.ts): heatmaps of a larger or smaller crop around the same centre,
// resampled into the reference crop's heatmap frame, must put an image point where the reference crop has it (checked
// with the project's own crop transform), and the scale lists are validated with messages that say what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import { cropTransform, transformPoints } from '../../src/geometry/affine.js';
import { otherScales, parseScales, toReferenceFrame } from '../../src/inference/multi-scale.js';
import { InvalidArgumentError } from '../../src/errors.js';

const H = 32;

/** [1, H, H, 1] Gaussian of height 1 centred at (x, y) in heatmap pixels (pixel centres at integers). */
function gaussian(x: number, y: number, sigma: number): Float32Array {
  const out = new Float32Array(H * H);
  for (let v = 0; v < H; v++) for (let u = 0; u < H; u++) out[v * H + u] = Math.exp(-((u - x) ** 2 + (v - y) ** 2) / (2 * sigma * sigma));
  return out;
}

test('a crop of another size, resampled into the reference frame, puts image points where the reference crop has them', () => {
  const crop = { center: [143.5, 88] as const, scale: 1.1 };
  const point = [101.2, 130.7]; // image pixels, off centre so a wrong centre or direction shows
  const reference = transformPoints(cropTransform(crop, { width: H, height: H }), point);
  for (const factor of [0.8, 0.9, 1.15, 1.3]) {
    const inCrop = transformPoints(cropTransform({ ...crop, scale: crop.scale * factor }, { width: H, height: H }), point);
    const sigma = 2;
    const warped = tf.tidy(() => toReferenceFrame(tf.tensor4d(gaussian(inCrop[0], inCrop[1], sigma), [1, H, H, 1]), factor).dataSync());
    // The crop's heatmap pixels are `factor` times the reference's: the Gaussian widens by that factor. Bilinear
    // resampling flattens its peak a little (measured <= 0.06); its centre of mass stays put (measured <= 0.012 px).
    const expected = gaussian(reference[0], reference[1], sigma * factor);
    let worst = 0;
    let [sx, sy, sw] = [0, 0, 0];
    for (let i = 0; i < expected.length; i++) {
      worst = Math.max(worst, Math.abs(warped[i] - expected[i]));
      sx += warped[i] * (i % H);
      sy += warped[i] * Math.floor(i / H);
      sw += warped[i];
    }
    const where = `factor ${factor}, the Gaussian at (${reference[0].toFixed(2)}, ${reference[1].toFixed(2)})`;
    assert.ok(worst < 0.07, `${where}: largest difference ${worst.toFixed(4)}`);
    assert.ok(Math.hypot(sx / sw - reference[0], sy / sw - reference[1]) < 0.05, `${where}: centre of mass at (${(sx / sw).toFixed(3)}, ${(sy / sw).toFixed(3)})`);
  }
});

test('a smaller crop leaves the reference frame outside it at 0; factor 1 is the identity; a batch keeps its order', () => {
  const ones = tf.ones([2, H, H, 3]);
  const zoomedIn = toReferenceFrame(ones as never, 0.5).arraySync() as number[][][][];
  assert.equal(zoomedIn[0][0][0][0], 0); // the reference frame's corner is outside a crop of half the side
  assert.equal(zoomedIn[1][H / 2][H / 2][2], 1);
  const x = tf.tensor4d(Float32Array.from({ length: 2 * H * H }, (_, i) => i % 7), [2, H, H, 1]);
  assert.deepEqual(toReferenceFrame(x, 1).dataSync(), x.dataSync());
  // Two different images in one batch come back in their own places.
  const two = tf.concat([tf.tensor4d(gaussian(10, 12, 1.5), [1, H, H, 1]), tf.tensor4d(gaussian(22, 20, 1.5), [1, H, H, 1])]);
  const back = toReferenceFrame(two as never, 1.2);
  const peaks = tf.argMax(tf.reshape(back, [2, H * H]), 1).dataSync();
  const c = (H - 1) / 2;
  assert.deepEqual([...peaks].map((p) => [p % H, Math.floor(p / H)]), [[10, 12], [22, 20]].map(([u, v]) => [Math.round(c + (u - c) * 1.2), Math.round(c + (v - c) * 1.2)]));
  tf.dispose([ones, x, two, back]);
  assert.throws(() => toReferenceFrame(x, 0), /positive number, got 0/);
});

test('scale lists: 1 is required, factors are checked, the CLI text is parsed', () => {
  assert.deepEqual(otherScales([1]), []);
  assert.deepEqual(otherScales([0.8, 1, 1.2]), [0.8, 1.2]);
  assert.deepEqual(parseScales('0.8, 0.9,1,1.1,1.2'), [0.8, 0.9, 1, 1.1, 1.2]);
  const refused: [unknown, RegExp][] = [
    [[], /non-empty list/],
    [[0.9, 1.1], /must include 1/],
    [[1, 1.2, 1.2], /must not repeat/],
    [[1, 0], /from 0.25 to 4, got 0/],
    [[1, NaN], /from 0.25 to 4, got NaN/],
    [[1, 5], /got 5/],
    [[1, '1.2'], /got 1.2/],
    [[1, 0.6, 0.7, 0.8, 0.9, 1.1, 1.2, 1.3, 1.4], /at most 8 scales, got 9/],
  ];
  for (const [scales, message] of refused) assert.throws(() => otherScales(scales as number[]), (e: Error) => e instanceof InvalidArgumentError && message.test(e.message), String(scales));
  assert.throws(() => parseScales('0.8,,1'), /--scales: '' is not a number/);
  assert.throws(() => parseScales('1,big'), /--scales: 'big' is not a number/);
  assert.throws(() => parseScales('0.9'), /must include 1/);
});
