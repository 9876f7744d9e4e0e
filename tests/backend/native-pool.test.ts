// Parity of the native MaxPool / MaxPoolGrad and nearest-neighbour resize (and its gradient) with the cpu backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import type { Tensor, Tensor4D } from '../../src/tf.js';
import { SKIP_NATIVE, assertParity, randomTensor, requireNative, weightedGrads } from './native-parity.js';

interface PoolCase {
  x: [number, number, number, number];
  k: number;
  stride: number;
  pad: 'same' | 'valid';
}

const POOLS: PoolCase[] = [
  { x: [1, 8, 8, 4], k: 2, stride: 2, pad: 'valid' },
  { x: [3, 32, 32, 16], k: 2, stride: 2, pad: 'valid' },
  { x: [2, 9, 11, 5], k: 2, stride: 2, pad: 'same' },
  { x: [2, 9, 11, 5], k: 3, stride: 2, pad: 'same' },
  { x: [1, 10, 7, 3], k: 3, stride: 1, pad: 'valid' },
  { x: [2, 6, 10, 37], k: 2, stride: 2, pad: 'valid' }, // the 2x2 fast path with a channel count off the vector width
];

test('native MaxPool and its gradient match cpu', { skip: SKIP_NATIVE }, async () => {
  for (const [i, c] of POOLS.entries()) {
    await assertParity(`maxPool x${c.x.join('x')} k${c.k} s${c.stride} ${c.pad}`, () => {
      const x = randomTensor(c.x, 10 + i);
      const f = (a: Tensor) => tf.maxPool(a as Tensor4D, c.k, c.stride, c.pad);
      return [f(x), ...weightedGrads(f, [x], 20 + i)];
    }, ['MaxPool', 'MaxPoolGrad']);
  }
});

test('native MaxPoolGrad sends ties to the first maximum, as cpu does', { skip: SKIP_NATIVE }, async () => {
  await assertParity('maxPool ties', () => {
    // Three levels only, so most 2x2 windows hold their maximum more than once.
    const x = tf.round(tf.mul(randomTensor([2, 8, 8, 19], 50, 0, 1), 2));
    const f = (a: Tensor) => tf.maxPool(a as Tensor4D, 2, 2, 'valid');
    return [f(x), ...weightedGrads(f, [x], 51)];
  }, ['MaxPoolGrad']);
});

interface ResizeCase {
  x: [number, number, number, number];
  size: [number, number];
  alignCorners: boolean;
}

const RESIZES: ResizeCase[] = [
  { x: [2, 4, 4, 8], size: [8, 8], alignCorners: false },
  { x: [1, 16, 16, 32], size: [32, 32], alignCorners: false },
  { x: [2, 5, 3, 3], size: [11, 7], alignCorners: false },
  { x: [2, 5, 6, 3], size: [9, 4], alignCorners: true },
];

test('native ResizeNearestNeighbor matches cpu, and its gradient too for batch 1', { skip: SKIP_NATIVE }, async () => {
  for (const [i, c] of RESIZES.entries()) {
    await assertParity(`resize x${c.x.join('x')} -> ${c.size} align=${c.alignCorners}`, () => {
      const x = randomTensor(c.x, 30 + i);
      const f = (a: Tensor) => tf.image.resizeNearestNeighbor(a as Tensor4D, c.size, c.alignCorners);
      // tfjs-backend-cpu 4.22's ResizeNearestNeighborGrad offsets dy by the *input's* batch stride, so its
      // gradient is wrong for batch > 1 when sizes differ; compare gradients on the first example only.
      const first = tf.slice(x, [0, 0, 0, 0], [1, -1, -1, -1]);
      return [f(x), ...weightedGrads(f, [first], 40 + i)];
    }, ['ResizeNearestNeighbor', 'ResizeNearestNeighborGrad']);
  }
});

test('native ResizeNearestNeighborGrad is the adjoint of the forward for batch > 1', { skip: SKIP_NATIVE }, async () => {
  requireNative();
  await tf.setBackend('native');
  try {
    for (const [i, c] of RESIZES.entries()) {
      const [x, r] = [randomTensor(c.x, 60 + i), randomTensor([c.x[0], ...c.size, c.x[3]], 70 + i)];
      // <resize(x), r> must equal <x, resize^T(r)>.
      const lhs = tf.sum(tf.mul(tf.image.resizeNearestNeighbor(x as Tensor4D, c.size, c.alignCorners), r));
      const [dx] = tf.grads((a: Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(a as Tensor4D, c.size, c.alignCorners), r)))([x]);
      const rhs = tf.sum(tf.mul(x, dx));
      const [a, b] = [lhs.dataSync()[0], rhs.dataSync()[0]];
      tf.dispose([x, r, lhs, dx, rhs]);
      assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(a)), `resize ${c.x} -> ${c.size}: <Ax, r> = ${a}, <x, A^T r> = ${b}`);
    }
  } finally {
    await tf.setBackend('cpu');
  }
});

test('native ResizeNearestNeighbor with half-pixel centres matches cpu (forward)', { skip: SKIP_NATIVE }, async () => {
  await assertParity('resize half-pixel', () => {
    const x = randomTensor([2, 5, 7, 3], 50) as Tensor4D;
    return [tf.image.resizeNearestNeighbor(x, [9, 13], false, true)];
  }, ['ResizeNearestNeighbor']);
});
