// Parity of the native batch normalisation with the cpu backend: the fused training op behind
// ops().batchNormTrain (outputs and gradients to x, gamma, beta) and FusedBatchNorm (inference).
import { test } from 'node:test';
import { tf } from '../../src/tf.js';
import type { Tensor, Tensor1D, Tensor4D } from '../../src/tf.js';
import { ops } from '../../src/model/ops.js';
import { SKIP_NATIVE, assertParity, randomTensor, weightedGrads } from './native-parity.js';

const SHAPES: [number, number, number, number][] = [[1, 5, 7, 3], [4, 9, 9, 16], [2, 32, 32, 64], [3, 1, 1, 8]];
const EPS = 1e-5;

test('native batchNormTrain outputs (y, mean, variance) match the portable ops on cpu', { skip: SKIP_NATIVE }, async () => {
  for (const [i, shape] of SHAPES.entries()) {
    await assertParity(`batchNormTrain ${shape}`, () => {
      const x = randomTensor(shape, 10 + i, -2, 3) as Tensor4D;
      const gamma = randomTensor([shape[3]], 20 + i, 0.5, 1.5) as Tensor1D;
      const beta = randomTensor([shape[3]], 30 + i) as Tensor1D;
      const { y, mean, variance } = ops().batchNormTrain(x, gamma, beta, EPS);
      return [y, mean, variance];
    }, ['HourglassBatchNormTrain']);
  }
});

test('native batchNormTrain gradients to x, gamma and beta match cpu', { skip: SKIP_NATIVE }, async () => {
  for (const [i, shape] of SHAPES.slice(0, 3).entries()) {
    await assertParity(`batchNormTrain grads ${shape}`, () => {
      const x = randomTensor(shape, 40 + i, -2, 3);
      const gamma = randomTensor([shape[3]], 50 + i, 0.5, 1.5);
      const beta = randomTensor([shape[3]], 60 + i);
      const f = (a: Tensor, g: Tensor, b: Tensor) => ops().batchNormTrain(a as Tensor4D, g as Tensor1D, b as Tensor1D, EPS).y;
      return weightedGrads(f, [x, gamma, beta], 70 + i);
    }, ['HourglassBatchNormTrainGrad']);
  }
});

test('native FusedBatchNorm (inference statistics) matches cpu', { skip: SKIP_NATIVE }, async () => {
  for (const [i, shape] of SHAPES.entries()) {
    await assertParity(`batchNorm4d ${shape}`, () => {
      const c = shape[3];
      const x = randomTensor(shape, 80 + i) as Tensor4D;
      const mean = randomTensor([c], 90 + i) as Tensor1D;
      const variance = randomTensor([c], 100 + i, 0.2, 2) as Tensor1D;
      const scale = randomTensor([c], 110 + i) as Tensor1D;
      const offset = randomTensor([c], 120 + i) as Tensor1D;
      return [tf.batchNorm4d(x, mean, variance, offset, scale, EPS), tf.batchNorm4d(x, mean, variance, undefined, undefined, 1e-3)];
    }, ['FusedBatchNorm']);
  }
});

test('native batchNormTrain does not leak tensors', { skip: SKIP_NATIVE }, async () => {
  const previous = tf.getBackend();
  await tf.setBackend('native');
  let leaked: number;
  try {
    const x = randomTensor([2, 4, 4, 3], 1);
    const gamma = randomTensor([3], 2);
    const beta = randomTensor([3], 3);
    try {
      const before = tf.memory().numTensors;
      const grads = weightedGrads((a, g, b) => ops().batchNormTrain(a as Tensor4D, g as Tensor1D, b as Tensor1D, EPS).y, [x, gamma, beta], 4);
      tf.dispose(grads);
      leaked = tf.memory().numTensors - before;
    } finally {
      tf.dispose([x, gamma, beta]);
    }
  } finally {
    await tf.setBackend(previous);
  }
  if (leaked !== 0) throw new Error(`leaked ${leaked} tensors`);
});
