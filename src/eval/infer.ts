// Running a model on prepared crops: heatmaps with the optional flip test (PAPER.md "Flip test": average the
// heatmaps of the image and of its mirror, mirrored back with left/right swapped), decoded and mapped back to
// original image pixels through the inverse of each crop's transform.
import { tf } from '../tf.js';
import type { Tensor4D } from '../tf.js';
import { HeatmapCodec } from '../codec/heatmap.js';
import { decodeBatch, flipHeatmaps } from '../codec/tensors.js';
import { invertAffine, transformPoints, type Affine } from '../geometry/affine.js';

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

export interface CropBatch {
  readonly size: number;
  /** [B * S * S * 3] HWC RGB in [0, 1]. */
  readonly inputs: Float32Array;
  /** Per sample, original image -> heatmap frame. */
  readonly imageToHeatmap: readonly Affine[];
}

export interface BatchPrediction {
  /** [B * K * 2] in original image pixels. */
  readonly points: Float32Array;
  /** [B * K] heatmap peak values. */
  readonly scores: Float32Array;
}

/** Predicts the joints of a batch of crops, in original image pixels. */
export async function predictCrops(model: HeatmapModel, batch: CropBatch, flipPerm: readonly number[] | null): Promise<BatchPrediction> {
  const s = model.config.inputSize;
  const k = model.config.joints;
  const h = s / 4;
  const codec = new HeatmapCodec({ size: { width: h, height: h } });
  const images = tf.tensor4d(batch.inputs, [batch.size, s, s, 3]);
  let heatmaps: Tensor4D | null = null;
  try {
    heatmaps = inferHeatmaps(model, images, flipPerm);
    const decoded = await decodeBatch(codec, heatmaps);
    const points = new Float32Array(batch.size * k * 2);
    const scores = new Float32Array(batch.size * k);
    decoded.forEach((d, i) => {
      points.set(transformPoints(invertAffine(batch.imageToHeatmap[i]), d.points), i * k * 2);
      scores.set(d.scores, i * k);
    });
    return { points, scores };
  } finally {
    images.dispose();
    heatmaps?.dispose();
  }
}
