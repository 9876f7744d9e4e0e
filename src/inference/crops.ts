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
  /**
   * The same crops at the model's other input sizes (HeatmapModel.inputSizes, in that order): factor 1 in `inputs`,
   * then one per factor of `rescaled`.
   */
  readonly sized?: readonly { readonly size: number; readonly inputs: Float32Array; readonly rescaled: readonly Float32Array[] }[];
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

/**
 * A batch's heatmaps in the frame of its `inputs`: flip-averaged when flipPerm is given, scale-averaged when rescaled,
 * each size's crops to the model when sized.
 */
function batchHeatmaps(model: HeatmapModel, batch: CropBatch, flipPerm: readonly number[] | null): Tensor4D {
  const s = model.config.inputSize;
  const sized = batch.sized ?? [];
  const sizes = model.inputSizes ?? [];
  if (sized.length !== 0 && sized.map((z) => z.size).join() !== sizes.join()) {
    throw new Error(`internal: crops at ${sized.map((z) => z.size).join(', ')} px for a model reading ${sizes.join(', ')}`);
  }
  // The crops of one scale at every size the model reads: the main size first.
  const tensors = (main: Float32Array, other: (z: (typeof sized)[number]) => Float32Array): Tensor4D[] => [
    tf.tensor4d(main, [batch.size, s, s, 3]),
    ...sized.map((z) => tf.tensor4d(other(z), [batch.size, z.size, z.size, 3])),
  ];
  const one = (x: Tensor4D[]) => inferHeatmaps(model, x.length === 1 ? x[0] : x, flipPerm);
  return tf.tidy(() => {
    const all = [one(tensors(batch.inputs, (z) => z.inputs))];
    (batch.rescaled ?? []).forEach(({ factor, inputs }, j) => {
      all.push(toReferenceFrame(one(tensors(inputs, (z) => z.rescaled[j])), factor));
    });
    return all.length === 1 ? all[0] : (tf.div(tf.addN(all), all.length) as Tensor4D);
  });
}
