// Geometry: crop transforms, inverses, point and image warps agree with each other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cropTransform, invertAffine, transformPoints, composeAffine, flipPoints, warpImage } from '../../src/geometry/affine.js';
import { assertAllClose } from '../helpers.js';

test('point -> crop -> inverse returns the point (with rotation and any output size)', () => {
  const points = [10, 20, 300.5, 47.25, -5, 600, 123.4, 321.9];
  for (const rotation of [0, 17, -45, 90, 180]) {
    for (const size of [{ width: 256, height: 256 }, { width: 64, height: 64 }, { width: 96, height: 128 }]) {
      const t = cropTransform({ center: [150, 200], scale: 1.7, rotation }, size);
      const back = transformPoints(invertAffine(t), transformPoints(t, points));
      assertAllClose(back, points, 1e-3, `rotation ${rotation}, ${size.width}x${size.height}`);
    }
  }
});

test('the centre lands on the output centre; the crop square spans the output width', () => {
  const t = cropTransform({ center: [100, 50], scale: 0.5 }, { width: 64, height: 64 });
  // scale 0.5 -> a 100 px square; 64 px out: 0.64 output px per image px.
  assertAllClose(transformPoints(t, [100, 50, 150, 50, 100, 0]), [31.5, 31.5, 31.5 + 32, 31.5, 31.5, 31.5 - 32], 1e-4);
});

test('input and heatmap frames of the same crop agree (stride 4, pixel centres)', () => {
  const crop = { center: [210, 133] as [number, number], scale: 1.3, rotation: 25 };
  const input = cropTransform(crop, { width: 256, height: 256 });
  const heat = cropTransform(crop, { width: 64, height: 64 });
  const p = [190, 140, 260, 90];
  const inPts = transformPoints(input, p);
  const hmPts = transformPoints(heat, p);
  for (let i = 0; i < p.length; i++) assert.ok(Math.abs((inPts[i] + 0.5) / 4 - 0.5 - hmPts[i]) < 1e-4);
});

test('positive rotation turns content counter-clockwise on screen', () => {
  const t = cropTransform({ center: [0, 0], scale: 1, rotation: 90 }, { width: 200, height: 200 });
  // A point to the right of the centre ends up above it (smaller y) in the output; the centre is at 99.5.
  const [x, y] = transformPoints(t, [10, 0]);
  assert.ok(Math.abs(x - 99.5) < 1e-4 && Math.abs(y - 89.5) < 1e-4, `got ${x}, ${y}`);
});

test('composeAffine applies first, then second', () => {
  const a = cropTransform({ center: [5, 5], scale: 0.3, rotation: 10 }, { width: 40, height: 40 });
  const b = cropTransform({ center: [20, 20], scale: 0.1, rotation: -30 }, { width: 10, height: 10 });
  const p = [3, 4, 7, 1];
  assertAllClose(transformPoints(composeAffine(b, a), p), transformPoints(b, transformPoints(a, p)), 1e-4);
});

test('flipPoints mirrors x and swaps pairs; twice is the identity', () => {
  const perm = [1, 0, 2];
  const p = [1, 2, 3, 4, 5, 6];
  const once = flipPoints(p, 10, perm);
  assert.deepEqual(Array.from(once), [6, 4, 8, 2, 4, 6]);
  assert.deepEqual(Array.from(flipPoints(once, 10, perm)), p);
});

test('warpImage: identity crop reproduces the image; a bright pixel follows its point', () => {
  const w = 9;
  const h = 7;
  const data = new Uint8Array(w * h).map((_, i) => (i * 37) % 251);
  const image = { data, width: w, height: h, channels: 1 };
  // scale w/200 with an output of w px gives 1 output px per image px; centre at the image centre.
  const identity = cropTransform({ center: [(w - 1) / 2, (h - 1) / 2], scale: w / 200 }, { width: w, height: h });
  assertAllClose(warpImage(image, identity, { width: w, height: h }), data, 1e-4, 'identity warp');

  const dot = new Uint8Array(40 * 30);
  dot[12 * 40 + 25] = 255; // (x 25, y 12)
  // Centre chosen so that the dot lands exactly on an output pixel centre.
  const t = cropTransform({ center: [20.5, 15.5], scale: 0.2, rotation: 90 }, { width: 40, height: 40 });
  const out = warpImage({ data: dot, width: 40, height: 30, channels: 1 }, t, { width: 40, height: 40 }, 1 / 255);
  const [px, py] = transformPoints(t, [25, 12]);
  let best = 0;
  out.forEach((v, i) => {
    if (v > out[best]) best = i;
  });
  assertAllClose([px, py], [16, 15], 1e-4, 'dot position');
  assert.deepEqual([best % 40, Math.floor(best / 40)], [16, 15]);
  assert.ok(out[best] > 0.99);
});

test('bad crops are refused', () => {
  assert.throws(() => cropTransform({ center: [0, 0], scale: 0 }, { width: 8, height: 8 }), /scale must be a positive number/);
  assert.throws(() => cropTransform({ center: [NaN, 0], scale: 1 }, { width: 8, height: 8 }), /center must be finite/);
});
