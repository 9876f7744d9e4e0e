// The wasm convolution gradient kernels (src/backend/wasm-fixes.ts) against the cpu backend's gradients:
// odd sizes, strides 1, 2 and 3, same/valid/numeric/explicit padding, batch 1 and > 1; no tensors leaked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import type { Tensor, Tensor4D } from '../../src/tf.js';
import { useBackend } from '../../src/backend/select.js';
import { useCpu } from '../helpers.js';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
type Shape4 = [number, number, number, number];

interface Case {
  readonly x: Shape4;
  readonly w: Shape4;
  readonly stride: number;
  readonly pad: Pad;
}

const CASES: readonly Case[] = [
  { x: [1, 9, 7, 3], w: [3, 3, 3, 4], stride: 1, pad: 'same' },
  { x: [2, 9, 7, 17], w: [3, 3, 17, 5], stride: 1, pad: 'same' },
  { x: [3, 11, 11, 3], w: [7, 7, 3, 5], stride: 2, pad: 3 },
  { x: [2, 10, 9, 18], w: [3, 3, 18, 3], stride: 2, pad: 'same' },
  { x: [1, 10, 9, 20], w: [3, 3, 20, 6], stride: 2, pad: 'valid' },
  { x: [2, 8, 8, 4], w: [1, 1, 4, 6], stride: 1, pad: 'valid' },
  { x: [1, 7, 5, 32], w: [1, 1, 32, 9], stride: 1, pad: 'same' },
  { x: [2, 9, 9, 5], w: [1, 1, 5, 4], stride: 2, pad: 'valid' },
  { x: [2, 8, 7, 16], w: [5, 3, 16, 4], stride: 1, pad: 'valid' },
  { x: [2, 9, 8, 3], w: [3, 3, 3, 2], stride: 1, pad: [[0, 0], [2, 0], [1, 2], [0, 0]] },
  { x: [2, 9, 7, 6], w: [2, 2, 6, 3], stride: 2, pad: 'valid' },
  { x: [1, 11, 10, 20], w: [3, 3, 20, 2], stride: 3, pad: 'same' },
  { x: [1, 6, 5, 4], w: [3, 3, 4, 2], stride: 1, pad: 3 }, // padding wider than the filter: the stock input-gradient kernel
];

interface Arrays {
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
}

/** Gradients of sum(conv(x, w) * dy) in the input and the filter on the active backend, as flat arrays. */
function gradients(c: Case, a: Arrays): { dx: Float32Array; dW: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor4d(a.x, c.x);
    const w = tf.tensor4d(a.w, c.w);
    const out = tf.conv2d(x, w, c.stride, c.pad);
    const dy = tf.tensor(a.dy, out.shape);
    const f = (input: Tensor, filter: Tensor) => tf.sum(tf.mul(tf.conv2d(input as Tensor4D, filter as Tensor4D, c.stride, c.pad), dy));
    const [dx, dW] = tf.grads(f)([x, w]);
    assert.deepEqual(dW.shape, c.w);
    assert.deepEqual(dx.shape, c.x);
    return { dx: dx.dataSync() as Float32Array, dW: dW.dataSync() as Float32Array };
  });
}

function randomArray(size: number, seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal([size], 0, 1, 'float32', seed).dataSync() as Float32Array);
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

test('wasm Conv2DBackpropFilter and Conv2DBackpropInput equal the cpu gradients (strides, paddings, odd sizes, batches)', async () => {
  for (const [k, c] of CASES.entries()) {
    await useCpu();
    const outShape = tf.tidy(() => tf.conv2d(tf.zeros(c.x) as Tensor4D, tf.zeros(c.w) as Tensor4D, c.stride, c.pad).shape);
    const size = (s: readonly number[]) => s.reduce((p, q) => p * q, 1);
    const arrays = { x: randomArray(size(c.x), 10 * k + 1), w: randomArray(size(c.w), 10 * k + 2), dy: randomArray(size(outShape), 10 * k + 3) };
    const expected = gradients(c, arrays);
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const actual = gradients(c, arrays);
    assert.equal(tf.memory().numTensors, before, `case ${k}: tensors leaked`);
    const what = `case ${k} x[${c.x}] w[${c.w}] stride ${c.stride} pad ${JSON.stringify(c.pad)}`;
    const errW = relativeError(actual.dW, expected.dW);
    assert.ok(errW <= 1e-4, `${what}: filter gradient relative error ${errW}`);
    const errX = relativeError(actual.dx, expected.dx);
    assert.ok(errX <= 1e-4, `${what}: input gradient relative error ${errX}`);
  }
});

test('a small conv-relu stack trains on wasm: its filter gradients equal the cpu ones', async () => {
  const shapes: Shape4[] = [[7, 7, 3, 8], [3, 3, 8, 8], [1, 1, 8, 4]];
  const xs = randomArray(2 * 16 * 16 * 3, 7);
  const ws = shapes.map((s, i) => randomArray(s.reduce((p, q) => p * q, 1), 20 + i));
  const grads = (): Float32Array[] => tf.tidy(() => {
    const x = tf.tensor4d(xs, [2, 16, 16, 3]);
    const weights = shapes.map((s, i) => tf.tensor4d(ws[i], s));
    const f = (...filters: Tensor[]) => {
      let h: Tensor4D = tf.relu(tf.fused.conv2d({ x, filter: filters[0] as Tensor4D, strides: 2, pad: 3 }));
      h = tf.relu(tf.fused.conv2d({ x: h, filter: filters[1] as Tensor4D, strides: 1, pad: 'same' }));
      return tf.sum(tf.square(tf.conv2d(h, filters[2] as Tensor4D, 1, 'valid')));
    };
    return tf.grads(f)(weights).map((g) => g.dataSync() as Float32Array);
  });
  await useCpu();
  const expected = grads();
  await useBackend('wasm');
  const actual = grads();
  for (let i = 0; i < shapes.length; i++) {
    const err = relativeError(actual[i], expected[i]);
    assert.ok(err <= 1e-4, `filter ${i} [${shapes[i]}]: relative error ${err}`);
  }
});
