// Running a model on a batch of prepared crops (flip test and multi-scale test as asked), decoding the heatmaps and
// mapping the joints back to original image pixels through the inverse of each crop's transform (docs/design.md
// "Data flows one way").
import { tf } from '../tf.js';
import type { Tensor4D } from '../tf.js';
import { HeatmapCodec, type Subpixel } from '../codec/heatmap.js';
import { decodeBatch } from '../codec/tensors.js';
import { invertAffine, transformPoints, type Affine } from '../geometry/affine.js';
import { heatmapSize } from '../model/config.js';
import { inferHeatmaps, type HeatmapModel } from './heatmaps.js';
import { toReferenceFrame } from './multi-scale.js';

export interface CropBatch {
  readonly size: number;
  /** [B * S * S * 3] HWC RGB in [0, 1]. */
  readonly inputs: Float32Array;
  /** Per sample, original image -> heatmap frame. */
  readonly imageToHeatmap: readonly Affine[];
  /**
   * Multi-scale test: the same people cropped with the square's side times `factor`, same centres. Their heatmaps,
   * resampled into the frame of `inputs`, are averaged with those of `inputs`.
   */
  readonly rescaled?: readonly { readonly factor: number; readonly inputs: Float32Array }[];
}

export interface BatchPrediction {
  /** [B * K * 2] in original image pixels. */
  readonly points: Float32Array;
  /** [B * K] heatmap peak values. */
  readonly scores: Float32Array;
}

/**
 * Predicts the joints of a batch of crops, in original image pixels; `subpixel` is the decoding's refinement of each
 * heatmap's argmax (src/codec/heatmap.ts, default 'taylor').
 */
export async function predictCrops(
  model: HeatmapModel, batch: CropBatch, flipPerm: readonly number[] | null, subpixel?: Subpixel,
): Promise<BatchPrediction> {
  const k = model.config.joints;
  const h = heatmapSize(model.config);
  const codec = new HeatmapCodec({ size: { width: h, height: h }, subpixel });
  let heatmaps: Tensor4D | null = null;
  try {
    heatmaps = batchHeatmaps(model, batch, flipPerm);
    const decoded = await decodeBatch(codec, heatmaps);
    const points = new Float32Array(batch.size * k * 2);
    const scores = new Float32Array(batch.size * k);
    decoded.forEach((d, i) => {
      points.set(transformPoints(invertAffine(batch.imageToHeatmap[i]), d.points), i * k * 2);
      scores.set(d.scores, i * k);
    });
    return { points, scores };
  } finally {
    heatmaps?.dispose();
  }
}

/** A batch's heatmaps in the frame of its `inputs`: flip-averaged when flipPerm is given, scale-averaged when rescaled. */
function batchHeatmaps(model: HeatmapModel, batch: CropBatch, flipPerm: readonly number[] | null): Tensor4D {
  const s = model.config.inputSize;
  const shape: [number, number, number, number] = [batch.size, s, s, 3];
  return tf.tidy(() => {
    const all = [inferHeatmaps(model, tf.tensor4d(batch.inputs, shape), flipPerm)];
    for (const { factor, inputs } of batch.rescaled ?? []) {
      all.push(toReferenceFrame(inferHeatmaps(model, tf.tensor4d(inputs, shape), flipPerm), factor));
    }
    return all.length === 1 ? all[0] : (tf.div(tf.addN(all), all.length) as Tensor4D);
  });
}
