// The multi-scale test (docs/method.md "Inference and evaluation", docs/evaluation.md): besides the crop around a
// person, crops this many times larger or smaller around the same centre, whose heatmaps are resampled into the first
// crop's heatmap frame and averaged with its own. The scale lists' checks, and the resampling.
import { tf } from '../tf.js';
import type { Tensor1D, Tensor4D } from '../tf.js';
import { InvalidArgumentError } from '../errors.js';

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
