// A model's heatmaps of prepared crops, with the optional flip test (docs/method.md "Inference and evaluation": average
// the heatmaps of the image and of its mirror, mirrored back with left/right swapped).
import { tf } from '../tf.js';
import type { Tensor4D } from '../tf.js';
import { flipHeatmaps } from '../codec/tensors.js';

/**
 * What turns crops into heatmaps: an HourglassModel, or (in the browser entry) a loaded TF.js export wrapped to this
 * shape. predict: images [N, S, S, 3] in [0, 1] -> last-stack heatmaps [N, S/4, S/4, K].
 */
export interface HeatmapModel {
  readonly config: { readonly inputSize: number; readonly joints: number };
  predict(images: Tensor4D): Tensor4D;
  /**
   * Other input sizes the model reads the same crops at (an ensemble's smaller members): when given, callers that
   * can crop at them pass those crops to predictSized, [config.inputSize, ...inputSizes] in that order.
   */
  readonly inputSizes?: readonly number[];
  predictSized?(images: readonly Tensor4D[]): Tensor4D;
}

/**
 * images [N, S, S, 3] -> final-stack heatmaps [N, S/4, S/4, K], flip-averaged when flipPerm is given. An array holds
 * the same crops at [config.inputSize, ...model.inputSizes] (predictSized).
 */
export function inferHeatmaps(model: HeatmapModel, images: Tensor4D | readonly Tensor4D[], flipPerm: readonly number[] | null): Tensor4D {
  const list = Array.isArray(images) ? images as readonly Tensor4D[] : [images as Tensor4D];
  const run = (inputs: readonly Tensor4D[]): Tensor4D => {
    if (inputs.length === 1) return model.predict(inputs[0]);
    if (!model.predictSized) throw new Error('internal: crops at several sizes for a model of one input size');
    return model.predictSized(inputs);
  };
  return tf.tidy(() => {
    if (!flipPerm) return run(list);
    // One run of twice the batch, not two: small maps keep both cores busy (batch 1: 1.9x faster flip test, native).
    const n = list[0].shape[0];
    const both = run(list.map((x) => tf.concat([x, tf.reverse(x, 2) as Tensor4D], 0)));
    const plain = tf.slice(both, [0, 0, 0, 0], [n, -1, -1, -1]) as Tensor4D;
    const mirrored = tf.slice(both, [n, 0, 0, 0], [n, -1, -1, -1]) as Tensor4D;
    return tf.div(tf.add(plain, flipHeatmaps(mirrored, flipPerm)), 2) as Tensor4D;
  });
}

