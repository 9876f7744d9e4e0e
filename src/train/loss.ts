// The training loss (docs/method.md "Targets and loss"): mean squared error between each stack's heatmaps and the same
// targets, summed over stacks (intermediate supervision). Unlabelled joints are masked out through per-joint weights.
// Written once, in TF.js ops, for every backend: on `native` they run through its ordinary kernels (a fused kernel
// saved about 0.3% of a training step: docs/benchmarks.md "The loss").
import { tf } from '../tf.js';
import type { Tensor2D, Tensor4D } from '../tf.js';
import type { Scalar } from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../errors.js';

/**
 * outputs: per stack [N, h, w, K]; targets: [N, h, w, K]; weights: [N, K] (0 masks a joint).
 * Returns sum over stacks of mean over N*h*w*K of weight * (prediction - target)^2.
 */
export function heatmapLoss(outputs: readonly Tensor4D[], targets: Tensor4D, weights: Tensor2D): Scalar {
  const [n, , , k] = targets.shape;
  for (const out of outputs) {
    // Checked, not broadcast: a prediction of another shape would silently compare the wrong pixels or joints.
    if (!tf.util.arraysEqual(out.shape, targets.shape)) {
      throw new InvalidArgumentError(`heatmapLoss: pred and targets must be [N, h, w, K] tensors of one shape, got [${out.shape}] and [${targets.shape}]`);
    }
  }
  if (!tf.util.arraysEqual(weights.shape, [n, k])) {
    throw new InvalidArgumentError(`heatmapLoss: weights must be [${n}, ${k}] (N, K), got [${weights.shape}]`);
  }
  return tf.tidy(() => {
    const mask = tf.reshape(weights, [n, 1, 1, k]); // [N, 1, 1, K] broadcast over h, w
    const perStack = outputs.map((out) => tf.mean(tf.mul(tf.squaredDifference(out, targets), mask)));
    return (perStack.length === 1 ? perStack[0] : tf.addN(perStack)) as Scalar;
  });
}
