// The public face for users who want poses, not training: createEstimator() -> estimatePose(image) -> Pose.
// image -> person box (given, or the whole image) -> crop -> model (+ flip test) -> decode -> inverse crop -> Pose
// (DESIGN.md "Pipeline", second line). Coordinates are original image pixels, pixel centres at integers
// ((0, 0) is the centre of the top-left pixel), the convention of src/geometry/affine.ts.
import { tf } from '../tf.js';
import type { Tensor } from '../tf.js';
import { InvalidArgumentError } from '../errors.js';
import { HourglassModel } from '../model/model.js';
import { loadModel } from '../model/checkpoint.js';
import { cropTransform, type RasterImage } from '../geometry/affine.js';
import { prepareInput } from '../data/prepare.js';
import { decodeImage, loadImage, type RgbImage } from '../data/image.js';
import { BBOX_MARGIN } from '../data/readers/person-box.js';
import { flipPermutation, type Skeleton } from '../data/skeletons/types.js';
import { skeletonForModel } from '../data/skeletons/index.js';
import { predictCrops } from '../eval/infer.js';
import { parseBackendName, useBackend, type BackendName } from '../backend/select.js';
import { DEFAULT_MODEL, resolveModelPath } from './models.js';

/** The default model shipped in the package (LSP-14 full body; see README "Model cards"). */
export const DEFAULT_MODEL_PATH = DEFAULT_MODEL.path;

/** Raw pixels: row-major, interleaved; 1 (grey), 3 (RGB) or 4 (RGBA, alpha ignored) channels. */
export interface RawImage {
  /** Bytes 0-255, or floats in [0, 1]. */
  readonly data: Uint8Array | Uint8ClampedArray | Float32Array;
  readonly width: number;
  readonly height: number;
  /** 1, 3 or 4; default: data.length / (width * height). */
  readonly channels?: number;
}

/**
 * What estimatePose accepts: a file path; an encoded image in memory (JPEG, PNG, WebP, ... as a Buffer or
 * Uint8Array); raw pixels; or a tf tensor [height, width, 1|3|4] (int32 0-255, or float32 in [0, 1]).
 */
export type ImageInput = string | Uint8Array | RawImage | Tensor;

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

export interface Pose {
  readonly keypoints: Keypoint[];
  /** The person box the crop was made from (the whole image when none was given). */
  readonly box: Box;
  readonly imageSize: { readonly width: number; readonly height: number };
}

export interface EstimatorOptions {
  /**
   * A checkpoint path, a bundled model's name ('lsp14', 'flic'), or a model already in memory (the estimator then
   * does not dispose it). Default: the bundled LSP-14 model.
   */
  readonly model?: string | HourglassModel;
  /** 'auto' (default: the fastest available), 'native', 'wasm', 'cpu', 'tensorflow'. */
  readonly backend?: BackendName | 'auto';
  /** Joint names and flip pairs; default: the skeleton stored with the model. */
  readonly skeleton?: Skeleton;
}

export interface EstimateOptions {
  /** The person's box; default: the whole image (the person fills it, the LSP convention). */
  readonly box?: Box | readonly [x: number, y: number, width: number, height: number];
  /** Average with the mirrored image's heatmaps (PAPER.md "Flip test"): more accurate, twice the work. Default true. */
  readonly flipTest?: boolean;
}

export interface Estimator {
  readonly skeleton: Skeleton;
  readonly model: HourglassModel;
  /** The TF.js backend in use. */
  readonly backend: string;
  estimatePose(image: ImageInput, options?: EstimateOptions): Promise<Pose>;
  /** Frees the model's memory (unless it was passed in). The estimator cannot be used afterwards. */
  dispose(): void;
}

/**
 * The crop for a box: a square around the box's centre with side max(width, height) x margin. A given box is
 * taken as a person's bounding box and gets the 1.25 margin the training crops have around the joints
 * (data/readers/person-box.ts); the whole image gets none (the LSP convention: the image is the crop).
 */
export function cropForBox(box: Box, margin: number): { center: [number, number]; scale: number } {
  return {
    center: [box.x + (box.width - 1) / 2, box.y + (box.height - 1) / 2],
    scale: (Math.max(box.width, box.height) * margin) / 200,
  };
}

function checkBox(value: EstimateOptions['box'], image: { width: number; height: number }): Box {
  const box: Box = Array.isArray(value)
    ? { x: value[0], y: value[1], width: value[2], height: value[3] }
    : (value as Box);
  const parts = [box.x, box.y, box.width, box.height];
  if (Array.isArray(value) && value.length !== 4) throw new InvalidArgumentError(`box must be [x, y, width, height], got ${value.length} numbers`);
  if (!parts.every((v) => typeof v === 'number' && Number.isFinite(v))) throw new InvalidArgumentError(`box must be four finite numbers, got ${JSON.stringify(value)}`);
  if (!(box.width >= 1 && box.height >= 1)) throw new InvalidArgumentError(`box width and height must be at least 1 pixel, got ${box.width}x${box.height}`);
  if (box.x >= image.width || box.y >= image.height || box.x + box.width <= 0 || box.y + box.height <= 0) {
    throw new InvalidArgumentError(`box ${parts.join(',')} lies outside the ${image.width}x${image.height} image`);
  }
  return box;
}

/** RGB raster from raw pixels (grey replicated, alpha dropped); validates sizes and ranges. */
function rasterFromRaw(raw: RawImage): RasterImage {
  const { data, width, height } = raw;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new InvalidArgumentError(`raw image: width and height must be positive integers, got ${width}x${height}`);
  }
  const channels = raw.channels ?? data.length / (width * height);
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new InvalidArgumentError(`raw image: ${data.length} values for ${width}x${height} pixels is not 1, 3 or 4 channels`);
  }
  if (data.length !== width * height * channels) {
    throw new InvalidArgumentError(`raw image: ${data.length} values, expected ${width}x${height}x${channels} = ${width * height * channels}`);
  }
  if (data instanceof Float32Array) {
    for (const v of data) {
      if (!(v >= 0 && v <= 1)) throw new InvalidArgumentError(`raw image: float pixels must be in [0, 1], found ${v} (divide bytes by 255)`);
    }
  }
  if (channels === 3) return { data, width, height, channels: 3 };
  const n = width * height;
  const rgb = data instanceof Float32Array ? new Float32Array(n * 3) : new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = data[i * channels + (channels === 1 ? 0 : c)];
  }
  return { data: rgb, width, height, channels: 3 };
}

function rasterFromTensor(t: Tensor): RasterImage {
  if (t.rank !== 3) throw new InvalidArgumentError(`image tensor must be [height, width, channels], got shape [${t.shape.join(', ')}]`);
  const [height, width, channels] = t.shape as [number, number, number];
  if (t.dtype === 'int32') {
    const values = t.dataSync() as Int32Array;
    for (const v of values) if (v < 0 || v > 255) throw new InvalidArgumentError(`int32 image tensor values must be 0-255, found ${v}`);
    return rasterFromRaw({ data: Uint8Array.from(values), width, height, channels });
  }
  if (t.dtype === 'float32') {
    return rasterFromRaw({ data: Float32Array.from(t.dataSync() as Float32Array), width, height, channels });
  }
  throw new InvalidArgumentError(`image tensor must be int32 (0-255) or float32 ([0, 1]), got ${t.dtype}`);
}

/** Any ImageInput as an RGB raster. Paths and encoded images are decoded with their EXIF orientation applied. */
export async function toRaster(image: ImageInput): Promise<RasterImage> {
  if (typeof image === 'string') return loadImage(image, { autoOrient: true });
  if (image instanceof tf.Tensor) return rasterFromTensor(image);
  if (image instanceof Uint8Array) return decodeImage(image, 'image buffer', { autoOrient: true });
  if (typeof image === 'object' && image !== null && 'data' in image && 'width' in image && 'height' in image) return rasterFromRaw(image);
  throw new InvalidArgumentError('image must be a file path, an encoded image Buffer, raw pixels { data, width, height } or a tensor');
}

class HourglassEstimator implements Estimator {
  private disposed = false;
  private readonly flipPerm: number[];

  constructor(readonly model: HourglassModel, readonly skeleton: Skeleton, readonly backend: string, private readonly owned: boolean) {
    this.flipPerm = flipPermutation(skeleton);
  }

  async estimatePose(image: ImageInput, options: EstimateOptions = {}): Promise<Pose> {
    if (this.disposed) throw new InvalidArgumentError('estimator has been disposed');
    const raster = await toRaster(image);
    const size = { width: raster.width, height: raster.height };
    const box = options.box === undefined ? { x: 0, y: 0, ...size } : checkBox(options.box, size);
    const crop = cropForBox(box, options.box === undefined ? 1 : BBOX_MARGIN);
    const s = this.model.config.inputSize;
    const inputs = prepareInput(raster, cropTransform(crop, { width: s, height: s }), s);
    const imageToHeatmap = cropTransform(crop, { width: s / 4, height: s / 4 });
    const { points, scores } = await predictCrops(this.model, { size: 1, inputs, imageToHeatmap: [imageToHeatmap] }, options.flipTest === false ? null : this.flipPerm);
    const keypoints = this.skeleton.joints.map((name, k) => ({ name, x: points[2 * k], y: points[2 * k + 1], score: scores[k] }));
    return { keypoints, box, imageSize: size };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.owned) this.model.dispose();
  }
}

/** Loads a model (default: the bundled one) on a backend (default: the fastest available) and returns an estimator. */
export async function createEstimator(options: EstimatorOptions = {}): Promise<Estimator> {
  const choice = await useBackend(parseBackendName(options.backend ?? 'auto'));
  if (options.model instanceof HourglassModel) {
    const skeleton = options.skeleton ?? skeletonForModel({}, options.model.config.joints, 'model');
    checkSkeleton(skeleton, options.model);
    return new HourglassEstimator(options.model, skeleton, choice.name, false);
  }
  const path = resolveModelPath(options.model);
  const { model, checkpoint } = loadModel(path);
  try {
    const skeleton = options.skeleton ?? skeletonForModel(checkpoint.meta, model.config.joints, path);
    checkSkeleton(skeleton, model);
    return new HourglassEstimator(model, skeleton, choice.name, true);
  } catch (err) {
    model.dispose();
    throw err;
  }
}

function checkSkeleton(skeleton: Skeleton, model: HourglassModel): void {
  if (skeleton.joints.length !== model.config.joints) {
    throw new InvalidArgumentError(`skeleton ${skeleton.id} has ${skeleton.joints.length} joints, the model ${model.config.joints}`);
  }
}

export type { RgbImage };
