// One training/evaluation example from one sample, docs/method.md "Data preparation and augmentation": a single affine
// crop (center, 200·scale square, augmentation's scale and rotation, optional mirror) gives the input and the joints.
import type { HeatmapCodec } from '../codec/heatmap.js';
import { InvalidArgumentError } from '../errors.js';
import { composeAffine, cropTransform, flipPoints, transformPoints, warpImage } from '../geometry/affine.js';
import type { Affine, RasterImage } from '../geometry/affine.js';
import { applyColour } from './augment.js';
import type { AugmentParams } from './augment.js';
import { cropBox } from './sample.js';
import type { BoxRule, Sample } from './sample.js';

export interface PrepareOptions {
  /** Network input side S (the crop is S x S). */
  readonly inputSize: number;
  /** Heatmap side h (S / 4 for the hourglass); must match the codec. */
  readonly heatmapSize: number;
  readonly codec: HeatmapCodec;
  /** flipPerm[k]: the joint that joint k comes from under a horizontal flip (flipPermutation of the skeleton). */
  readonly flipPerm: readonly number[];
  /** The crop rule of the sample's dataset. */
  readonly boxRule: BoxRule;
  /** Drawn augmentation (sampleAugmentation), or null for none (evaluation). */
  readonly augmentation: AugmentParams | null;
}

export interface PreparedSample {
  /** [S * S * 3] HWC RGB in [0, 1]. */
  readonly input: Float32Array;
  /** [h * h * K] HWC Gaussian targets. */
  readonly heatmaps: Float32Array;
  /** [K] 1 = labelled joint (trained), 0 = masked. */
  readonly weights: Float32Array;
  /**
   * Maps original image points to this sample's heatmap frame (flip included). With a flip, heatmap channel k
   * holds joint flipPerm[k]; invertAffine(imageToHeatmap) maps heatmap points back to the image.
   */
  readonly imageToHeatmap: Affine;
}

/** The frames of one sample: image -> input and image -> heatmap, flip included. */
export interface SampleFrames {
  readonly imageToInput: Affine;
  readonly imageToHeatmap: Affine;
}

/** Horizontal mirror of an output of width `size` (pixel centres at integers): x -> size - 1 - x. */
function mirror(size: number): Affine {
  return [-1, 0, size - 1, 0, 1, 0];
}

function checkSize(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`${what} must be a positive integer, got ${value}`);
}

export function sampleFrames(
  sample: Pick<Sample, 'center' | 'scale'>,
  o: Pick<PrepareOptions, 'inputSize' | 'heatmapSize' | 'boxRule' | 'augmentation'>,
): SampleFrames {
  checkSize(o.inputSize, 'inputSize');
  checkSize(o.heatmapSize, 'heatmapSize');
  const box = cropBox(sample, o.boxRule);
  const scale = box.scale * (o.augmentation?.scaleFactor ?? 1);
  const [dx, dy] = o.augmentation?.shift ?? [0, 0];
  const crop = {
    // cropTransform's square has side 200 x scale image pixels.
    center: [box.center[0] + dx * 200 * scale, box.center[1] + dy * 200 * scale] as [number, number],
    scale,
    rotation: o.augmentation?.rotation ?? 0,
  };
  let imageToInput = cropTransform(crop, { width: o.inputSize, height: o.inputSize });
  let imageToHeatmap = cropTransform(crop, { width: o.heatmapSize, height: o.heatmapSize });
  if (o.augmentation?.flip === true) {
    imageToInput = composeAffine(mirror(o.inputSize), imageToInput);
    imageToHeatmap = composeAffine(mirror(o.heatmapSize), imageToHeatmap);
  }
  return { imageToInput, imageToHeatmap };
}

/** The network input only (no targets): what evaluation and prediction need. [S * S * 3] HWC RGB in [0, 1]. */
export function prepareInput(image: RasterImage, imageToInput: Affine, inputSize: number, colour?: readonly [number, number, number]): Float32Array {
  if (image.channels !== 3) throw new InvalidArgumentError(`prepare: expected an RGB image, got ${image.channels} channels`);
  const gain = image.data instanceof Float32Array ? 1 : 1 / 255;
  const input = warpImage(image, imageToInput, { width: inputSize, height: inputSize }, gain);
  if (colour) applyColour(input, colour);
  return input;
}

export function prepareSample(image: RasterImage, sample: Sample, o: PrepareOptions): PreparedSample {
  const K = sample.visible.length;
  if (sample.joints.length !== 2 * K) throw new InvalidArgumentError(`sample ${sample.id}: ${sample.joints.length / 2} joints but ${K} visibility flags`);
  if (o.flipPerm.length !== K) throw new InvalidArgumentError(`sample ${sample.id}: flip permutation has ${o.flipPerm.length} entries for ${K} joints`);
  if (o.codec.size.width !== o.heatmapSize || o.codec.size.height !== o.heatmapSize) {
    throw new InvalidArgumentError(`codec is ${o.codec.size.width}x${o.codec.size.height}, heatmapSize is ${o.heatmapSize}`);
  }
  const { imageToInput, imageToHeatmap } = sampleFrames(sample, o);
  const input = prepareInput(image, imageToInput, o.inputSize, o.augmentation?.colour);

  let heatmapPoints: Float32Array;
  let visible: ArrayLike<number> = sample.visible;
  if (o.augmentation?.flip === true) {
    // Mirror inside the heatmap frame, then swap left/right: channel k gets joint flipPerm[k]. flipPoints mirrors
    // x -> h-1-x, so transform with the un-mirrored crop first (imageToHeatmap already includes the mirror).
    const unmirrored = composeAffine(mirror(o.heatmapSize), imageToHeatmap);
    heatmapPoints = flipPoints(transformPoints(unmirrored, sample.joints), o.heatmapSize, o.flipPerm);
    visible = o.flipPerm.map((src) => sample.visible[src]);
  } else {
    heatmapPoints = transformPoints(imageToHeatmap, sample.joints);
  }
  const { heatmaps, weights } = o.codec.encode(heatmapPoints, visible);
  return { input, heatmaps, weights, imageToHeatmap };
}
