// The training loss (PAPER.md "Targets and loss"): mean squared error between each stack's heatmaps and the same
// targets, summed over stacks (intermediate supervision). Unlabelled joints are masked out through per-joint weights.
import { tf } from '../tf.js';
import type { Tensor2D, Tensor4D, Scalar } from '@tensorflow/tfjs-core';

/**
 * outputs: per stack [N, h, w, K]; targets: [N, h, w, K]; weights: [N, K] (0 masks a joint).
 * Returns sum over stacks of mean over N*h*w*K of weight * (prediction - target)^2.
 */
export function heatmapLoss(outputs: readonly Tensor4D[], targets: Tensor4D, weights: Tensor2D): Scalar {
  return tf.tidy(() => {
    const [n, , , k] = targets.shape;
    const mask = tf.reshape(weights, [n, 1, 1, k]); // [N, 1, 1, K] broadcast over h, w
    const perStack = outputs.map((out) => tf.mean(tf.mul(tf.squaredDifference(out, targets), mask)));
    return (perStack.length === 1 ? perStack[0] : tf.addN(perStack)) as Scalar;
  });
}
