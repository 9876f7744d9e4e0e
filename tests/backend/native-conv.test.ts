// Parity of the native convolution kernels (Conv2D, FusedConv2D, both backprops) with the cpu backend:
// odd sizes, stride 1 and 2, 'same' / 'valid' / explicit padding, batch 1 and > 1.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tf } from '../../src/tf.js';
import type { Tensor, Tensor1D, Tensor4D } from '../../src/tf.js';
import { ops } from '../../src/model/ops.js';
import { nativeKernelCalls } from '../../src/backend/native/index.js';
import { SKIP_NATIVE, assertParity, randomTensor, weightedGrads } from './native-parity.js';

interface ConvCase {
  x: [number, number, number, number];
  k: number;
  out: number;
  stride: number;
  pad: 'same' | 'valid' | number;
}

const CASES: ConvCase[] = [
  { x: [1, 7, 9, 3], k: 3, out: 5, stride: 1, pad: 'same' },
  { x: [2, 9, 8, 4], k: 3, out: 6, stride: 2, pad: 'same' },
  { x: [3, 10, 11, 5], k: 1, out: 7, stride: 1, pad: 'valid' },
  { x: [2, 8, 7, 6], k: 3, out: 4, stride: 2, pad: 'valid' },
  { x: [2, 13, 13, 3], k: 7, out: 8, stride: 2, pad: 3 },
  { x: [2, 32, 30, 3], k: 7, out: 8, stride: 2, pad: 3 }, // the stem: the last window stops short of the pad
  { x: [1, 9, 10, 4], k: 3, out: 5, stride: 2, pad: 1 },
  { x: [1, 16, 16, 32], k: 3, out: 16, stride: 1, pad: 'same' },
];

const name = (c: ConvCase) => `x${c.x.join('x')} k${c.k} o${c.out} s${c.stride} ${c.pad}`;
const filterShape = (c: ConvCase): [number, number, number, number] => [c.k, c.k, c.x[3], c.out];

test('native Conv2D forward matches cpu', { skip: SKIP_NATIVE }, async () => {
  for (const [i, c] of CASES.entries()) {
    await assertParity(`conv2d ${name(c)}`, () => {
      const x = randomTensor(c.x, 10 + i) as Tensor4D;
      const w = randomTensor(filterShape(c), 20 + i) as Tensor4D;
      return [tf.conv2d(x, w, c.stride, c.pad)];
    }, ['Conv2D']);
  }
});

test('native Conv2D with dilation 2 matches cpu', { skip: SKIP_NATIVE }, async () => {
  await assertParity('conv2d dilated', () => {
    const x = randomTensor([2, 11, 10, 4], 1) as Tensor4D;
    const w = randomTensor([3, 3, 4, 5], 2) as Tensor4D;
    return [tf.conv2d(x, w, 1, 'same', 'NHWC', 2)];
  }, ['Conv2D']);
});

test('native FusedConv2D (bias, bias + relu) matches cpu', { skip: SKIP_NATIVE }, async () => {
  for (const [i, c] of CASES.entries()) {
    for (const activation of ['linear', 'relu'] as const) {
      await assertParity(`fused conv2d ${activation} ${name(c)}`, () => {
        const x = randomTensor(c.x, 30 + i) as Tensor4D;
        const filter = randomTensor(filterShape(c), 40 + i) as Tensor4D;
        const bias = randomTensor([c.out], 50 + i) as Tensor1D;
        return [tf.fused.conv2d({ x, filter, bias, strides: c.stride, pad: c.pad, activation })];
      }, ['FusedConv2D']);
    }
  }
});

test('native Conv2D gradients (backprop input and filter) match cpu', { skip: SKIP_NATIVE }, async () => {
  for (const [i, c] of CASES.entries()) {
    await assertParity(`conv2d grads ${name(c)}`, () => {
      const x = randomTensor(c.x, 60 + i);
      const w = randomTensor(filterShape(c), 70 + i);
      const f = (a: Tensor, b: Tensor) => tf.conv2d(a as Tensor4D, b as Tensor4D, c.stride, c.pad);
      return weightedGrads(f, [x, w], 80 + i);
    }, ['Conv2DBackpropInput', 'Conv2DBackpropFilter']);
  }
});

test('native FusedConv2D gradients with bias match cpu', { skip: SKIP_NATIVE }, async () => {
  for (const [i, c] of CASES.entries()) {
    await assertParity(`fused conv2d grads ${name(c)}`, () => {
      const x = randomTensor(c.x, 90 + i);
      const w = randomTensor(filterShape(c), 100 + i);
      const b = randomTensor([c.out], 110 + i);
      const f = (a: Tensor, filter: Tensor, bias: Tensor) =>
        tf.fused.conv2d({ x: a as Tensor4D, filter: filter as Tensor4D, bias, strides: c.stride, pad: c.pad });
      return weightedGrads(f, [x, w, b], 120 + i);
    }, ['Conv2DBackpropInput', 'Conv2DBackpropFilter', 'Sum']);
  }
});

test('native model convolution (ops().conv2d: fused filter + bias backward, gemm 1x1) matches cpu', { skip: SKIP_NATIVE }, async () => {
  // Includes large-ish pointwise cases that take the GEMM path (1x1, stride 1, unpadded) with many rows.
  const cases: ConvCase[] = [
    ...CASES,
    { x: [4, 16, 16, 64], k: 1, out: 48, stride: 1, pad: 'valid' },
    { x: [2, 9, 7, 130], k: 1, out: 17, stride: 1, pad: 'same' },
    // 3x3 stride 1, 16-multiple channels, >= 4096 output pixels: Winograd backward; >= 16384 Winograd forward too
    // (native/src/conv.cc, winogradFits).
    { x: [1, 64, 64, 16], k: 3, out: 32, stride: 1, pad: 'same' },
    { x: [4, 64, 64, 16], k: 3, out: 16, stride: 1, pad: 'same' },
    { x: [4, 32, 40, 32], k: 3, out: 16, stride: 1, pad: 1 },
  ];
  for (const [i, c] of cases.entries()) {
    await assertParity(`model conv2d ${name(c)}`, () => {
      const x = randomTensor(c.x, 130 + i);
      const w = randomTensor(filterShape(c), 140 + i);
      const b = randomTensor([c.out], 150 + i);
      const f = (a: Tensor, filter: Tensor, bias: Tensor) =>
        ops().conv2d(a as Tensor4D, filter as Tensor4D, bias as Tensor1D, c.stride, c.pad);
      const y = f(x, w, b);
      return [y, ...weightedGrads(f, [x, w, b], 160 + i)];
    }, ['HourglassConv2D', 'HourglassConv2DBackpropFilterBias', 'Conv2DBackpropInput']);
  }
});

test('native model convolution skips the input gradient when only the filter and bias need one', { skip: SKIP_NATIVE }, async () => {
  const before = nativeKernelCalls('Conv2DBackpropInput');
  await assertParity('model conv2d, parameter gradients only', () => {
    const x = randomTensor([2, 13, 13, 3], 170);
    const w = randomTensor([7, 7, 3, 8], 171);
    const b = randomTensor([8], 172);
    const g = tf.grads((filter: Tensor, bias: Tensor) =>
      tf.sum(tf.mul(ops().conv2d(x as Tensor4D, filter as Tensor4D, bias as Tensor1D, 2, 3), randomTensor([2, 7, 7, 8], 173))));
    return g([w, b]);
  }, ['HourglassConv2DBackpropFilterBias']);
  assert.equal(nativeKernelCalls('Conv2DBackpropInput'), before, 'the input gradient was computed');
});
