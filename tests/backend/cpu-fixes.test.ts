// The corrected cpu ResizeNearestNeighborGrad: the gradient of an upsample is the sum over each cell's copies,
// for every image of a batch (the stock TF.js 4.22 kernel gets batch > 0 wrong).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import { useCpu } from '../helpers.js';
import type { Tensor4D } from '@tensorflow/tfjs-core';

test('nearest-neighbour upsample gradient is right for every image of a batch', async () => {
  await useCpu();
  const cases: [[number, number, number, number], [number, number], boolean, boolean][] = [
    [[3, 3, 4, 2], [6, 8], false, false],
    [[2, 5, 3, 3], [7, 4], false, true],
    [[2, 4, 4, 1], [7, 7], true, false],
  ];
  for (const [shape, size, alignCorners, halfPixelCenters] of cases) {
    const x = tf.randomNormal(shape, 0, 1, 'float32', 1) as Tensor4D;
    const w = tf.randomNormal([shape[0], size[0], size[1], shape[3]], 0, 1, 'float32', 2);
    const f = (a: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(a as Tensor4D, size, alignCorners, halfPixelCenters), w));
    const grad = tf.grad(f)(x);
    // Adjoint check, exact for a linear map: <resize(x), w> = <x, grad>.
    const lhs = f(x).dataSync()[0];
    const rhs = tf.sum(tf.mul(x, grad)).dataSync()[0];
    assert.ok(Math.abs(lhs - rhs) <= 1e-4 * Math.max(1, Math.abs(lhs)), `${shape} -> ${size}: ${lhs} vs ${rhs}`);
    tf.dispose([x, w, grad]);
  }
});

test('Conv2DBackpropFilter is the adjoint of the convolution in its filter, for strides and paddings', async () => {
  await useCpu();
  // For a linear map w -> conv(x, w), <conv(x, w), dy> = <w, dW> exactly, whatever the padding and stride.
  const cases: [[number, number, number, number], [number, number, number, number], number, 'same' | 'valid' | number][] = [
    [[2, 9, 7, 3], [3, 3, 3, 4], 1, 'same'],
    [[1, 11, 11, 3], [7, 7, 3, 5], 2, 3],
    [[3, 8, 8, 4], [1, 1, 4, 6], 1, 'valid'],
    [[2, 10, 9, 2], [3, 3, 2, 3], 2, 'same'],
  ];
  for (const [xShape, wShape, stride, pad] of cases) {
    const x = tf.randomNormal(xShape, 0, 1, 'float32', 3) as Tensor4D;
    const w = tf.randomNormal(wShape, 0, 1, 'float32', 4) as Tensor4D;
    const out = tf.conv2d(x, w, stride, pad);
    const dy = tf.randomNormal(out.shape, 0, 1, 'float32', 5);
    const dW = tf.grad((filter: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, filter as Tensor4D, stride, pad), dy)))(w);
    const lhs = tf.sum(tf.mul(out, dy)).dataSync()[0];
    const rhs = tf.sum(tf.mul(w, dW)).dataSync()[0];
    assert.ok(Math.abs(lhs - rhs) <= 1e-4 * Math.max(1, Math.abs(lhs)), `${xShape} * ${wShape} s${stride} ${pad}: ${lhs} vs ${rhs}`);
    tf.dispose([x, w, out, dy, dW]);
  }
});

test('Reverse (the fast copy) mirrors any axes of any rank, float32 and int32', async () => {
  await useCpu();
  const cases: [number[], number[]][] = [[[7], [0]], [[3, 4], [1]], [[3, 4], [0, 1]], [[2, 5, 4, 3], [2]], [[2, 5, 4, 3], [1, 3]], [[2, 3, 1, 4], [2]], [[2, 3, 4], [-1]]];
  for (const [shape, dims] of cases) {
    for (const dtype of ['float32', 'int32'] as const) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(Array.from({ length: n }, (_, i) => i * 3 - 7), shape, dtype);
      const actual = tf.reverse(x, dims);
      // Reference: element by element through index arithmetic.
      const axes = dims.map((d) => (d < 0 ? d + shape.length : d));
      const source = x.dataSync();
      const expected = new Float64Array(n);
      const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
      for (let flat = 0; flat < n; flat++) {
        let from = 0;
        shape.forEach((size, axis) => {
          const c = Math.floor(flat / strides[axis]) % size;
          from += (axes.includes(axis) ? size - 1 - c : c) * strides[axis];
        });
        expected[flat] = source[from];
      }
      assert.equal(actual.dtype, dtype);
      assert.deepEqual(actual.shape, shape);
      assert.deepEqual(Array.from(actual.dataSync()), Array.from(expected), `${shape} reversed on ${dims} (${dtype})`);
      tf.dispose([x, actual]);
    }
  }
});
