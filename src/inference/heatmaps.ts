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
}

/** images [N, S, S, 3] -> final-stack heatmaps [N, S/4, S/4, K], flip-averaged when flipPerm is given. */
export function inferHeatmaps(model: HeatmapModel, images: Tensor4D, flipPerm: readonly number[] | null): Tensor4D {
  return tf.tidy(() => {
    if (!flipPerm) return model.predict(images);
    // One run of twice the batch, not two: small maps keep both cores busy (batch 1: 1.9x faster flip test, native).
    const n = images.shape[0];
    const both = model.predict(tf.concat([images, tf.reverse(images, 2) as Tensor4D], 0));
    const plain = tf.slice(both, [0, 0, 0, 0], [n, -1, -1, -1]) as Tensor4D;
    const mirrored = tf.slice(both, [n, 0, 0, 0], [n, -1, -1, -1]) as Tensor4D;
    return tf.div(tf.add(plain, flipHeatmaps(mirrored, flipPerm)), 2) as Tensor4D;
  });
}

