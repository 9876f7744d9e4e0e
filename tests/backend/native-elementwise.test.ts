// Parity of the native element-wise and reduction kernels with the cpu backend: ReLU and its gradient, unary
// ops, binary ops with every broadcast the addon takes (and one it hands back to cpu), AddN, Sum and Mean.
import { test } from 'node:test';
import { tf } from '../../src/tf.js';
import type { Tensor } from '../../src/tf.js';
import { SKIP_NATIVE, assertParity, randomTensor, weightedGrads } from './native-parity.js';

const SHAPES: number[][] = [[2, 5, 7, 3], [1, 33, 65, 17], [3, 64, 64, 32]];

test('native Relu and its gradient match cpu', { skip: SKIP_NATIVE }, async () => {
  for (const [i, shape] of SHAPES.entries()) {
    await assertParity(`relu ${shape}`, () => {
      const x = randomTensor(shape, i);
      return [tf.relu(x), ...weightedGrads((a) => tf.relu(a), [x], 100 + i)];
    }, ['Relu', 'Step', 'Multiply']);
  }
});

test('native unary ops match cpu', { skip: SKIP_NATIVE }, async () => {
  for (const [i, shape] of SHAPES.entries()) {
    await assertParity(`unary ${shape}`, () => {
      const x = randomTensor(shape, 200 + i);
      const positive = randomTensor(shape, 300 + i, 0.1, 4);
      return [tf.square(x), tf.neg(x), tf.step(x, 0.25), tf.sqrt(positive), tf.rsqrt(positive)];
    }, ['Square', 'Neg', 'Step', 'Sqrt', 'Rsqrt']);
  }
});

test('native binary ops match cpu for same shapes, scalars and trailing broadcasts', { skip: SKIP_NATIVE }, async () => {
  const pairs: [number[], number[]][] = [
    [[2, 5, 7, 3], [2, 5, 7, 3]],
    [[3, 64, 64, 32], [3, 64, 64, 32]],
    [[2, 9, 9, 16], [16]],
    [[16], [2, 9, 9, 16]],
    [[2, 9, 9, 16], [1, 1, 16]],
    [[2, 9, 9, 16], []],
    [[], [4, 33, 8]],
  ];
  for (const [i, [sa, sb]] of pairs.entries()) {
    await assertParity(`binary ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, () => {
      const a = randomTensor(sa, 400 + i);
      const b = randomTensor(sb, 500 + i, 0.5, 2);
      return [tf.add(a, b), tf.sub(a, b), tf.mul(a, b), tf.div(a, b), tf.squaredDifference(a, b), tf.maximum(a, b)];
    }, ['Add', 'Sub', 'Multiply', 'RealDiv', 'SquaredDifference', 'Maximum']);
  }
});

test('native binary ops match cpu for general broadcasts', { skip: SKIP_NATIVE }, async () => {
  const pairs: [number[], number[]][] = [
    [[2, 1, 1, 4], [2, 3, 5, 4]], // the loss's per-joint mask
    [[4, 32, 32, 16], [4, 1, 1, 16]],
    [[3, 1, 5], [1, 4, 1]],
    [[2, 3, 1], [7]],
  ];
  for (const [i, [sa, sb]] of pairs.entries()) {
    await assertParity(`binary ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, () => {
      const a = randomTensor(sa, 800 + i);
      const b = randomTensor(sb, 900 + i, 0.5, 2);
      return [tf.add(a, b), tf.sub(b, a), tf.mul(a, b), tf.div(a, b), tf.squaredDifference(b, a), tf.maximum(a, b)];
    }, ['Add', 'Sub', 'Multiply', 'RealDiv', 'SquaredDifference', 'Maximum']);
  }
});

test('native AddN matches cpu', { skip: SKIP_NATIVE }, async () => {
  await assertParity('addN', () => {
    const xs = [0, 1, 2, 3].map((k) => randomTensor([2, 17, 19, 8], 600 + k));
    return [tf.addN(xs), tf.addN(xs.slice(0, 1))];
  }, ['AddN']);
});

test('native Sum and Mean over leading and trailing axes match cpu', { skip: SKIP_NATIVE }, async () => {
  const x = () => randomTensor([3, 33, 17, 24], 700);
  await assertParity('sum/mean leading', () => {
    const t = x();
    return [tf.sum(t, [0, 1, 2]), tf.sum(t, [0, 1, 2], true), tf.mean(t, [0, 1]), tf.sum(t, 0)];
  }, ['Sum', 'Mean']);
  await assertParity('sum/mean trailing and all', () => {
    const t = x();
    return [tf.sum(t, [3]), tf.sum(t, [1, 2, 3], true), tf.mean(t), tf.sum(t), tf.mean(t, -1)];
  }, ['Sum', 'Mean']);
  await assertParity('sum over middle axes (cpu fallback)', () => [tf.sum(x(), [1, 2])]);
});

test('int32 inputs fall back to cpu', { skip: SKIP_NATIVE }, async () => {
  await assertParity('int32 add/sum', () => {
    const a = tf.tensor([1, 2, 3, 4], [2, 2], 'int32');
    const b = tf.tensor([5, 6], [2], 'int32');
    return [tf.cast(tf.add(a, b), 'float32'), tf.cast(tf.sum(a, 0), 'float32')] as Tensor[];
  });
});
