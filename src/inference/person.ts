// One person's path through a pose model, in an RGB raster: the crop for their box, the model's heatmaps (flip and
// multi-scale tests as asked), decoded and mapped back to image pixels (docs/design.md "Data flows one way", the line
// from image to pose). Used by the Node estimator and the browser entry (through src/api/people.ts). No Node module.
// Coordinates are original image pixels, pixel centres at integers ((0, 0) is the centre of the top-left pixel),
// the convention of src/geometry/affine.ts.
import { cropTransform, type RasterImage } from '../geometry/affine.js';
import { BBOX_MARGIN } from '../geometry/person-box.js';
import { prepareInput } from '../data/prepare.js';
import type { Skeleton } from '../data/skeletons/types.js';
import { heatmapSize } from '../model/config.js';
import type { HeatmapModel } from './heatmaps.js';
import { otherScales } from './multi-scale.js';
import { predictCrops } from './crops.js';
import type { Subpixel } from '../codec/heatmap.js';

/** A person box in image pixels: top-left corner and size. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Keypoint {
  readonly name: string;
  /** Original image pixels. */
  readonly x: number;
  readonly y: number;
  /** The heatmap's peak value: about 1 for a confident joint, near 0 for a guess. */
  readonly score: number;
}

/** How a crop is run through the model. */
export interface InferenceOptions {
  /**
   * Average with the mirrored image's heatmaps (docs/method.md "Inference and evaluation"): more accurate, twice the
   * work. Default true.
   */
  readonly flipTest?: boolean;
  /**
   * Multi-scale test: also crop squares this many times the size (same centre) and average their heatmaps, e.g.
   * [0.8, 0.9, 1, 1.1, 1.2]; must include 1. Each factor is one more run of the model. Default [1].
   */
  readonly scales?: readonly number[];
  /** How each heatmap's argmax is refined to a sub-pixel position (src/codec/heatmap.ts). Default 'taylor'. */
  readonly subpixel?: Subpixel;
}

/**
 * The crop for a box: a square around the box's centre with side max(width, height) x margin. A given box is
 * taken as a person's bounding box and gets the 1.25 margin the training crops have around the joints
 * (geometry/person-box.ts); the whole image gets none (the LSP convention: the image is the crop).
 */
export function cropForBox(box: Box, margin: number): { center: [number, number]; scale: number } {
  return {
    center: [box.x + (box.width - 1) / 2, box.y + (box.height - 1) / 2],
    scale: (Math.max(box.width, box.height) * margin) / 200,
  };
}

/**
 * One person's keypoints in an RGB raster: the crop for the box (null: the whole image, no margin), the model's
 * heatmaps (averaged with the mirrored crop's unless flipTest is false, and with other crop sizes' when scales are
 * given), decoded and mapped back to image pixels.
 */
export async function keypointsInBox(
  model: HeatmapModel, skeleton: Skeleton, flipPerm: readonly number[], raster: RasterImage, box: Box | null,
  options: InferenceOptions = {},
): Promise<Keypoint[]> {
  const others = otherScales(options.scales ?? [1]);
  const crop = box === null ? cropForBox({ x: 0, y: 0, width: raster.width, height: raster.height }, 1) : cropForBox(box, BBOX_MARGIN);
  const s = model.config.inputSize;
  const cropInput = (factor: number, size = s): Float32Array =>
    prepareInput(raster, cropTransform({ ...crop, scale: crop.scale * factor }, { width: size, height: size }), size);
  const batch = {
    size: 1,
    inputs: cropInput(1),
    imageToHeatmap: [cropTransform(crop, { width: heatmapSize(model.config), height: heatmapSize(model.config) })],
    rescaled: others.map((factor) => ({ factor, inputs: cropInput(factor) })),
    // An ensemble's members of other input sizes get their own crops of the same squares.
    sized: (model.inputSizes ?? []).map((size) => ({ size, inputs: cropInput(1, size), rescaled: others.map((f) => cropInput(f, size)) })),
  };
  const { points, scores } = await predictCrops(model, batch, options.flipTest === false ? null : flipPerm, options.subpixel);
  return skeleton.joints.map((name, k) => ({ name, x: points[2 * k], y: points[2 * k + 1], score: scores[k] }));
}
