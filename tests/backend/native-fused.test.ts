// Parity of the native fused ops that have no single TF.js kernel: relu(batchNormTrain(x)) with its gradients,
// and the RMSprop update, against the same computations composed from TF.js ops on the cpu backend.
import { test } from 'node:test';
import { tf } from '../../src/tf.js';
import type { Tensor, Tensor1D, Tensor4D } from '../../src/tf.js';
import { ops } from '../../src/model/ops.js';
import { HourglassModel } from '../../src/model/model.js';
import { nativeBatchNormReluTrain, nativeRmspropUpdate, setNativeInference } from '../../src/backend/native/index.js';
import { SKIP_NATIVE, assertParity, randomTensor, weightedGrads } from './native-parity.js';

const EPS = 1e-5;
// C = 3 and 24 take oneDNN's generic NHWC path, C = 16 and 64 its AVX-512 one.
const SHAPES: [number, number, number, number][] = [[1, 5, 7, 3], [4, 9, 9, 16], [2, 16, 16, 64], [3, 7, 5, 24]];

/** relu(bn(x)): the fused native op on `native`, the portable composition elsewhere. */
function bnRelu(x: Tensor4D, gamma: Tensor1D, beta: Tensor1D) {
  if (tf.getBackend() === 'native') return nativeBatchNormReluTrain(x, gamma, beta, EPS);
  const r = ops().batchNormTrain(x, gamma, beta, EPS);
  return { ...r, y: tf.relu(r.y) };
}

test('native batchNormReluTrain outputs and gradients match relu(batchNormTrain) on cpu', { skip: SKIP_NATIVE }, async () => {
  for (const [i, shape] of SHAPES.entries()) {
    await assertParity(`batchNormReluTrain ${shape}`, () => {
      const x = randomTensor(shape, 10 + i, -2, 3) as Tensor4D;
      const gamma = randomTensor([shape[3]], 20 + i, -1, 1.5) as Tensor1D;
      const beta = randomTensor([shape[3]], 30 + i) as Tensor1D;
      const { y, mean, variance } = bnRelu(x, gamma, beta);
      const f = (a: Tensor, g: Tensor, b: Tensor) => bnRelu(a as Tensor4D, g as Tensor1D, b as Tensor1D).y;
      return [y, mean, variance, ...weightedGrads(f, [x, gamma, beta], 40 + i)];
    }, ['HourglassBatchNormReluTrain', 'HourglassBatchNormReluTrainGrad']);
  }
});

test('native RMSprop update matches the composed update on cpu', { skip: SKIP_NATIVE }, async () => {
  const [lr, alpha, epsilon] = [2.5e-4, 0.99, 1e-8];
  for (const [i, shape] of [[7], [3, 3, 64, 128], [1]].entries()) {
    await assertParity(`rmsprop ${shape}`, () => {
      const p = randomTensor(shape, 50 + i);
      const v = randomTensor(shape, 60 + i, 0, 1e-3);
      const g = randomTensor(shape, 70 + i, -1e-2, 1e-2);
      if (tf.getBackend() === 'native') return nativeRmspropUpdate(p, v, g, lr, alpha, epsilon);
      const nextV = tf.add(tf.mul(v, alpha), tf.mul(tf.square(g), 1 - alpha));
      return [tf.sub(p, tf.mul(tf.div(g, tf.add(tf.sqrt(nextV), epsilon)), lr)), nextV];
    }, ['HourglassRmspropUpdate']);
  }
});

test('native inference batch norm (running statistics, optional fused ReLU) matches cpu', { skip: SKIP_NATIVE }, async () => {
  for (const [i, shape] of SHAPES.entries()) {
    for (const relu of [false, true]) {
      await assertParity(`batchNormInfer relu=${relu} ${shape}`, () => {
        const c = shape[3];
        const x = randomTensor(shape, 80 + i, -2, 3) as Tensor4D;
        const [mean, gamma, beta] = [81, 82, 83].map((s) => randomTensor([c], s + i) as Tensor1D);
        const variance = randomTensor([c], 84 + i, 0.1, 2) as Tensor1D;
        return [ops().batchNormInfer(x, mean, variance, gamma, beta, EPS, relu)];
      }, ['HourglassBatchNormInfer']);
    }
  }
});

test('native folded predict matches the unfolded inference forward on cpu', { skip: SKIP_NATIVE }, async () => {
  const x = randomTensor([2, 64, 64, 3], 90, 0, 1) as Tensor4D;
  const model = HourglassModel.create({ stacks: 2, features: 16, joints: 5, inputSize: 64, depth: 3 }, 4);
  // predict()'s TF.js path, kernel by kernel (the native plan that predict() takes by default: native-infer.test.ts).
  const plans = setNativeInference(false);
  try {
    // Non-trivial running statistics: a few training-mode forwards on shifted inputs.
    tf.tidy(() => {
      for (let k = 0; k < 3; k++) model.forward(tf.add(tf.mul(x, k + 1), k) as Tensor4D, { training: true });
    });
    await assertParity('folded predict', () => {
      if (tf.getBackend() === 'native') return [model.predict(x)];
      return [model.forward(x, { training: false }).at(-1) as Tensor4D];
    }, ['FusedConv2D', 'HourglassBatchNormInfer']);
  } finally {
    setNativeInference(plans);
    model.dispose();
    x.dispose();
  }
});

test('native running-statistics update is bit-identical to the composed update on cpu', { skip: SKIP_NATIVE }, async () => {
  for (const [i, count] of [1, 2, 4096, 65536].entries()) {
    await assertParity(`running stats count=${count}`, () => {
      const [rm, m] = [0, 1].map((k) => randomTensor([37], 200 + 10 * i + k) as Tensor1D);
      const [rv, v] = [2, 3].map((k) => randomTensor([37], 200 + 10 * i + k, 0, 3) as Tensor1D);
      return ops().updateRunningStats(rm, rv, m, v, 0.1, count);
    }, ['HourglassRunningStats'], 0);
  }
});
