// Running a model on prepared crops: heatmaps with the optional flip test (docs/method.md "Inference and evaluation":
// average the heatmaps of the image and of its mirror, mirrored back with left/right swapped) and the optional
// multi-scale test (also average the heatmaps of larger and smaller crops around the same centre, resampled into the
// first crop's heatmap frame), decoded and mapped back to original image pixels through the inverse of each crop's
// transform.
import { tf } from '../tf.js';
import type { Tensor1D, Tensor4D } from '../tf.js';
import { InvalidArgumentError } from '../errors.js';
import { HeatmapCodec } from '../codec/heatmap.js';
import { decodeBatch, flipHeatmaps } from '../codec/tensors.js';
import { invertAffine, transformPoints, type Affine } from '../geometry/affine.js';
import { heatmapSize } from '../model/config.js';

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

/**
 * Heatmaps [N, h, h, K] of crops whose side is `factor` times the reference crops' (same centres), resampled into
 * the reference crops' heatmap frame (bilinear; 0 where the crop did not reach). Crops map their centre to the
 * heatmap's centre c = (h - 1) / 2 (geometry/affine.ts), so reference pixel u lies at c + (u - c) / factor in the
 * other crop's heatmap: cropAndResize's box [0.5 - 0.5 / factor, 0.5 + 0.5 / factor] samples exactly there.
 */
export function toReferenceFrame(heatmaps: Tensor4D, factor: number): Tensor4D {
  if (!(factor > 0) || !Number.isFinite(factor)) throw new InvalidArgumentError(`crop scale factor must be a positive number, got ${factor}`);
  if (factor === 1) return tf.clone(heatmaps);
  const [n, h, w] = heatmaps.shape;
  const lo = 0.5 - 0.5 / factor;
  const hi = 0.5 + 0.5 / factor;
  return tf.tidy(() => {
    const boxes = tf.tensor2d(Array.from({ length: n }, () => [lo, lo, hi, hi]), [n, 4]);
    const index = tf.range(0, n, 1, 'int32') as Tensor1D;
    return tf.image.cropAndResize(heatmaps, boxes, index, [h, w], 'bilinear', 0);
  });
}

/** At most this many crop scales per person in the multi-scale test. */
export const MAX_SCALES = 8;

/**
 * Validates a multi-scale test's factors of the crop's side (e.g. [0.8, 0.9, 1, 1.1, 1.2]) and returns those other
 * than 1. 1 must be among them: the other crops' heatmaps are mapped into its frame.
 */
export function otherScales(scales: readonly number[]): number[] {
  if (!Array.isArray(scales) || scales.length === 0) throw new InvalidArgumentError('scales must be a non-empty list of crop scale factors, e.g. [0.8, 1, 1.2]');
  for (const f of scales) {
    if (typeof f !== 'number' || !(f >= 0.25 && f <= 4)) throw new InvalidArgumentError(`scale factors must be numbers from 0.25 to 4, got ${f}`);
  }
  if (!scales.includes(1)) throw new InvalidArgumentError(`scales must include 1 (the crop the others are mapped into), got ${scales.join(', ')}`);
  if (new Set(scales).size !== scales.length) throw new InvalidArgumentError(`scales must not repeat a factor, got ${scales.join(', ')}`);
  if (scales.length > MAX_SCALES) throw new InvalidArgumentError(`at most ${MAX_SCALES} scales, got ${scales.length}`);
  return scales.filter((f) => f !== 1);
}

/** Parses and validates a comma-separated list of scale factors (the CLI's --scales, e.g. '0.8,0.9,1,1.1,1.2'). */
export function parseScales(spec: string): number[] {
  const parts = spec.split(',').map((p) => p.trim());
  const scales = parts.map((p) => {
    const f = p === '' ? NaN : Number(p);
    if (!Number.isFinite(f)) throw new InvalidArgumentError(`--scales: '${p}' is not a number (give factors like 0.8,0.9,1,1.1,1.2)`);
    return f;
  });
  otherScales(scales);
  return scales;
}

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

/** Predicts the joints of a batch of crops, in original image pixels. */
export async function predictCrops(model: HeatmapModel, batch: CropBatch, flipPerm: readonly number[] | null): Promise<BatchPrediction> {
  const k = model.config.joints;
  const h = heatmapSize(model.config);
  const codec = new HeatmapCodec({ size: { width: h, height: h } });
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
