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
    const plain = model.predict(images);
    if (!flipPerm) return plain;
    const mirrored = model.predict(tf.reverse(images, 2) as Tensor4D);
    return tf.div(tf.add(plain, flipHeatmaps(mirrored, flipPerm)), 2) as Tensor4D;
  });
}

