// The training loss (docs/method.md "Targets and loss"): mean squared error between each stack's heatmaps and the same
// targets, summed over stacks (intermediate supervision). Unlabelled joints are masked out through per-joint weights.
// A model op (src/model/ops.ts): the native backend computes it, and its gradient, with one fused kernel per stack.
import { ops } from '../model/ops.js';
import type { Tensor2D, Tensor4D, Scalar } from '@tensorflow/tfjs-core';

/**
 * outputs: per stack [N, h, w, K]; targets: [N, h, w, K]; weights: [N, K] (0 masks a joint).
 * Returns sum over stacks of mean over N*h*w*K of weight * (prediction - target)^2.
 */
export function heatmapLoss(outputs: readonly Tensor4D[], targets: Tensor4D, weights: Tensor2D): Scalar {
  return ops().heatmapLoss(outputs, targets, weights);
}
