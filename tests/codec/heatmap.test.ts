// The heatmap codec: exact answers on hand-made heatmaps, encode -> decode round trip, flip, no leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import { HeatmapCodec } from '../../src/codec/heatmap.js';
import { decodeBatch, flipHeatmaps } from '../../src/codec/tensors.js';
import { flipPermutation } from '../../src/data/skeletons/types.js';
import { LSP14 } from '../../src/data/skeletons/lsp.js';
import { assertAllClose, useCpu } from '../helpers.js';
import type { Tensor4D } from '@tensorflow/tfjs-core';

/** One-joint heatmap from rows of values (HWC with K = 1 is just row-major). */
function map(rows: number[][]): { data: Float32Array; codec: HeatmapCodec } {
  return { data: Float32Array.from(rows.flat()), codec: new HeatmapCodec({ size: { width: rows[0].length, height: rows.length } }) };
}

test('decode: peak in the middle with a higher right and lower neighbour -> quarter step', () => {
  const { data, codec } = map([
    [0, 0.1, 0],
    [0.2, 1, 0.5],
    [0, 0.3, 0],
  ]);
  const { points, scores } = codec.decode(data, 1);
  assert.deepEqual(Array.from(points), [1.25, 1.25]);
  assert.equal(scores[0], 1);
});

test('decode: left and up neighbours higher -> negative quarter steps', () => {
  const { data, codec } = map([
    [0, 0.6, 0],
    [0.7, 0.9, 0.1],
    [0, 0.2, 0],
  ]);
  assert.deepEqual(Array.from(codec.decode(data, 1).points), [0.75, 0.75]);
});

test('decode: peak on the border gets no step along that axis', () => {
  const { data, codec } = map([
    [0.4, 0.2, 0, 0],
    [1, 0.3, 0, 0],
    [0.1, 0, 0, 0],
  ]);
  // x = 0 is the border: no x step; in y the upper neighbour (0.4) beats the lower (0.1).
  assert.deepEqual(Array.from(codec.decode(data, 1).points), [0, 0.75]);
  const corner = map([
    [0, 0, 0],
    [0, 0, 0.5],
    [0, 0.4, 0.9],
  ]);
  assert.deepEqual(Array.from(corner.codec.decode(corner.data, 1).points), [2, 2]);
});

test('decode: ties take the first maximum in row-major order; equal neighbours give no step', () => {
  const { data, codec } = map([
    [0, 0, 0, 0],
    [0, 0.8, 0, 0.8],
    [0, 0, 0, 0],
  ]);
  // Both peaks 0.8: the first (x = 1, y = 1) wins; its neighbours are equal in x (0, 0) and in y (0, 0).
  const { points, scores } = codec.decode(data, 1);
  assert.deepEqual(Array.from(points), [1, 1]);
  assert.ok(Math.abs(scores[0] - 0.8) < 1e-7);
});

test('decode: several joints are read from the HWC interleaving', () => {
  const codec = new HeatmapCodec({ size: { width: 3, height: 2 } });
  const data = new Float32Array(3 * 2 * 2);
  data[(0 * 3 + 2) * 2 + 0] = 1; // joint 0 at (2, 0)
  data[(1 * 3 + 0) * 2 + 1] = 0.5; // joint 1 at (0, 1)
  const { points, scores } = codec.decode(data, 2);
  assert.deepEqual(Array.from(points), [2, 0, 0, 1]);
  assert.deepEqual(Array.from(scores), [1, 0.5]);
});

test('encode: Gaussian of sigma 1 centred on the joint, zero maps and weight 0 for unlabelled joints', () => {
  const codec = new HeatmapCodec({ size: { width: 16, height: 16 }, sigma: 1 });
  const { heatmaps, weights } = codec.encode([5, 7, 3, 3], [1, 0]);
  assert.deepEqual(Array.from(weights), [1, 0]);
  const at = (x: number, y: number, k: number) => heatmaps[(y * 16 + x) * 2 + k];
  assert.equal(at(5, 7, 0), 1);
  assert.ok(Math.abs(at(6, 7, 0) - Math.exp(-0.5)) < 1e-7);
  assert.ok(Math.abs(at(6, 8, 0) - Math.exp(-1)) < 1e-7);
  assert.equal(at(9, 7, 0), 0, 'beyond the 3-sigma window');
  assert.ok(heatmaps.every((v, i) => i % 2 === 0 || v === 0), 'unlabelled joint is all zero');
});

test('encode: a labelled joint outside the map keeps weight 1 with an all-zero target', () => {
  const codec = new HeatmapCodec({ size: { width: 8, height: 8 } });
  const { heatmaps, weights } = codec.encode([-20, 3], [1]);
  assert.equal(weights[0], 1);
  assert.ok(heatmaps.every((v) => v === 0));
});

test('encode -> decode round trip is within 0.3 heatmap pixels', () => {
  const codec = new HeatmapCodec({ size: { width: 32, height: 24 }, sigma: 1 });
  const k = 50;
  const points = new Float32Array(2 * k);
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < k; i++) {
    points[2 * i] = 1 + rand() * 29.9; // interior, away from the border cells
    points[2 * i + 1] = 1 + rand() * 21.9;
  }
  const { heatmaps } = codec.encode(points, new Uint8Array(k).fill(1));
  const decoded = codec.decode(heatmaps, k);
  for (let i = 0; i < 2 * k; i++) {
    assert.ok(Math.abs(decoded.points[i] - points[i]) <= 0.3, `coordinate ${i}: ${points[i]} decoded as ${decoded.points[i]}`);
  }
});

test('decode (taylor, the default): a Gaussian peak is found where it lies between cells, for any sigma', () => {
  for (const sigma of [1, 2]) {
    const codec = new HeatmapCodec({ size: { width: 32, height: 24 }, sigma });
    const truth = [10.3, 7.65, 20.85, 14.1, 6.5, 16.45];
    const { heatmaps } = codec.encode(truth, [1, 1, 1]);
    const { points } = codec.decode(heatmaps, 3);
    truth.forEach((v, i) => assert.ok(Math.abs(points[i] - v) < 0.01, `sigma ${sigma}, coordinate ${i}: ${v} decoded as ${points[i]}`));
    // The paper's rule, asked for, is a quarter pixel off the cell: 10.25 for 10.3, 7.75 for 7.65.
    const quarter = new HeatmapCodec({ size: { width: 32, height: 24 }, sigma, subpixel: 'quarter' }).decode(heatmaps, 3);
    assert.deepEqual(Array.from(quarter.points.subarray(0, 2)), [10.25, 7.75]);
  }
});

test('decode (taylor): within 2 pixels of the border the quarter step; a step is clamped to one pixel', () => {
  const codec = new HeatmapCodec({ size: { width: 32, height: 32 }, sigma: 1 });
  const { heatmaps } = codec.encode([30.6, 15.4], [1]);
  // x: argmax 31 is on the border (no step); y: 15 is inside, but x is within 2 pixels, so the quarter step.
  assert.deepEqual(Array.from(codec.decode(heatmaps, 1).points), [31, 15.25]);
  // A flat ridge from x = 3 to 7: the first maximum is (3, 5); the expansion's maximum lies further right than a pixel.
  const ridge = new HeatmapCodec({ size: { width: 12, height: 11 } });
  const data = new Float32Array(12 * 11);
  for (let x = 3; x <= 7; x++) data[5 * 12 + x] = 1;
  assert.deepEqual(Array.from(ridge.decode(data, 1).points), [4, 5]);
  assert.deepEqual(Array.from(new HeatmapCodec({ size: { width: 12, height: 11 }, subpixel: 'quarter' }).decode(data, 1).points), [3.25, 5]);
});

test('an unknown sub-pixel rule is refused', () => {
  assert.throws(() => new HeatmapCodec({ size: { width: 8, height: 8 }, subpixel: 'cubic' as never }), /sub-pixel refinement must be one of taylor, quarter, got "cubic"/);
});

test('flipHeatmaps mirrors columns and swaps left/right channels; twice is the identity', async () => {
  await useCpu();
  const perm = flipPermutation(LSP14);
  const x = tf.randomUniform([2, 5, 7, 14]) as Tensor4D;
  const once = flipHeatmaps(x, perm);
  const twice = flipHeatmaps(once, perm);
  assertAllClose(await twice.data(), await x.data(), 0, 'flip twice');
  // Joint 0 (right ankle) of the flipped map at column c is joint 5 (left ankle) of the input at column 6 - c.
  const a = (await once.array()) as number[][][][];
  const b = (await x.array()) as number[][][][];
  assert.equal(a[1][3][2][0], b[1][3][4][5]);
  assert.equal(a[0][0][0][12], b[0][0][6][12], 'neck maps to itself');
  tf.dispose([x, once, twice]);
});

test('codec tensor entry points do not leak tensors', async () => {
  await useCpu();
  const codec = new HeatmapCodec({ size: { width: 8, height: 8 } });
  const x = tf.randomUniform([3, 8, 8, 14]) as Tensor4D;
  const start = tf.memory().numTensors;
  const decoded = await decodeBatch(codec, x);
  assert.equal(decoded.length, 3);
  tf.dispose(flipHeatmaps(x, flipPermutation(LSP14)));
  assert.equal(tf.memory().numTensors, start);
  x.dispose();
});

test('bad sizes are refused with a clear message', () => {
  const codec = new HeatmapCodec({ size: { width: 4, height: 4 } });
  assert.throws(() => codec.decode(new Float32Array(10), 1), /expected 4x4x1 = 16 values, got 10/);
  assert.throws(() => codec.encode([1, 2, 3], [1, 1]), /expected 4 coordinates for 2 joints, got 3/);
  assert.throws(() => new HeatmapCodec({ size: { width: 4, height: 4 }, sigma: 0 }), /sigma must be > 0/);
});
