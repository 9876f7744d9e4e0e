// Composite operations the network is built from, with a per-backend override point: a backend that has a
// faster fused kernel (the native oneDNN backend) registers it here; every other backend gets the portable
// TF.js composition below. The model only ever calls `ops()`.
import { tf } from '../tf.js';
import type { Tensor1D, Tensor4D } from '../tf.js';

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
}

const portableOps: ModelOps = {
  batchNormTrain(x, gamma, beta, epsilon) {
    const moments = tf.moments(x, [0, 1, 2]);
    const mean = moments.mean as Tensor1D; // [C]
    const variance = moments.variance as Tensor1D; // [C]
    const y = tf.batchNorm4d(x, mean, variance, beta, gamma, epsilon);
    return { y, mean, variance };
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
