// Composite operations the network is built from, with a per-backend override point: a backend that has a
// faster fused kernel (the native oneDNN backend) registers it here; every other backend gets the portable
// TF.js composition below. The model only ever calls `ops()`.
import { tf } from '../tf.js';
import type { Tensor, Tensor1D, Tensor4D } from '../tf.js';

export interface BatchNormTrainResult {
  /** Normalised, scaled and shifted input, same shape as x. */
  y: Tensor4D;
  /** Per-channel batch mean, [C]. */
  mean: Tensor1D;
  /** Per-channel biased batch variance (divided by N*H*W), [C]. */
  variance: Tensor1D;
}

export interface ModelOps {
  /**
   * Training-mode batch normalisation over N, H, W of an NHWC tensor, with gradients to x, gamma and beta
   * (the returned statistics feed the running averages; nothing differentiates through them).
   */
  batchNormTrain(x: Tensor4D, gamma: Tensor1D, beta: Tensor1D, epsilon: number): BatchNormTrainResult;
  /** relu(batchNormTrain(x).y), with the statistics of x: the pre-activation blocks' BN-ReLU as one op. */
  batchNormReluTrain(x: Tensor4D, gamma: Tensor1D, beta: Tensor1D, epsilon: number): BatchNormTrainResult;
  /**
   * One RMSprop step (src/train/rmsprop.ts): slot' = alpha slot + (1 - alpha) grad^2;
   * param' = param - lr grad / (sqrt(slot') + epsilon). Returns [param', slot'] for the caller to assign.
   */
  rmspropUpdate(param: Tensor, slot: Tensor, grad: Tensor, lr: number, alpha: number, epsilon: number): [Tensor, Tensor];
  /**
   * conv(x, filter) + bias, NHWC, filter HWIO [k, k, in, out], bias [out]; pad as tf.conv2d's (a number: symmetric).
   * x: [N, H, W, in] -> [N, H', W', out]. Differentiable in all three inputs.
   */
  conv2d(x: Tensor4D, filter: Tensor4D, bias: Tensor1D, strides: number, pad: 'valid' | 'same' | number): Tensor4D;
  /**
   * Running statistics after a training batch (PyTorch's convention): running = (1 - m) running + m batch, the
   * variance made unbiased (times count / (count - 1)) first. All [C]; returns [mean', variance'].
   */
  updateRunningStats(
    runningMean: Tensor1D, runningVar: Tensor1D, mean: Tensor1D, variance: Tensor1D, momentum: number, count: number,
  ): [Tensor1D, Tensor1D];
  /** Inference batch norm with given (running) statistics, then ReLU when `relu`. x: [N, H, W, C]; the rest [C]. */
  batchNormInfer(
    x: Tensor4D, mean: Tensor1D, variance: Tensor1D, gamma: Tensor1D, beta: Tensor1D, epsilon: number, relu: boolean,
  ): Tensor4D;
}

const portableOps: ModelOps = {
  batchNormTrain(x, gamma, beta, epsilon) {
    const moments = tf.moments(x, [0, 1, 2]);
    const mean = moments.mean as Tensor1D; // [C]
    const variance = moments.variance as Tensor1D; // [C]
    const y = tf.batchNorm4d(x, mean, variance, beta, gamma, epsilon);
    return { y, mean, variance };
  },
  batchNormReluTrain(x, gamma, beta, epsilon) {
    const r = portableOps.batchNormTrain(x, gamma, beta, epsilon);
    return { ...r, y: tf.relu(r.y) };
  },
  updateRunningStats(runningMean, runningVar, mean, variance, momentum, count) {
    const unbiased = count > 1 ? tf.mul(variance, count / (count - 1)) : variance;
    const blend = (running: Tensor1D, batch: Tensor) => tf.add(tf.mul(running, 1 - momentum), tf.mul(batch, momentum)) as Tensor1D;
    return [blend(runningMean, mean), blend(runningVar, unbiased)];
  },
  batchNormInfer(x, mean, variance, gamma, beta, epsilon, relu) {
    const y = tf.batchNorm4d(x, mean, variance, beta, gamma, epsilon);
    return relu ? tf.relu(y) : y;
  },
  conv2d(x, filter, bias, strides, pad) {
    return tf.fused.conv2d({ x, filter, bias, strides, pad });
  },
  rmspropUpdate(param, slot, grad, lr, alpha, epsilon) {
    const nextSlot = tf.add(tf.mul(slot, alpha), tf.mul(tf.square(grad), 1 - alpha));
    return [tf.sub(param, tf.mul(tf.div(grad, tf.add(tf.sqrt(nextSlot), epsilon)), lr)), nextSlot];
  },
};

const overrides = new Map<string, Partial<ModelOps>>();

/** Lets a backend supply faster implementations of some operations; the rest stay portable. */
export function registerModelOps(backendName: string, impl: Partial<ModelOps>): void {
  overrides.set(backendName, impl);
}

/** The operations to use on the active backend. */
export function ops(): ModelOps {
  const impl = overrides.get(tf.getBackend());
  return impl ? { ...portableOps, ...impl } : portableOps;
}
