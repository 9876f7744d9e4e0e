// The public face for users who want poses, not training: createEstimator() -> estimatePose(image) -> Pose, in
// Node: images from files and encoded buffers too, checkpoints from disk, the fastest backend. The pipeline itself
// (box -> crop -> model -> decode -> Pose) is src/api/pose.ts, shared with the browser entry (src/browser.ts).
import { tf } from '../tf.js';
import type { Tensor } from '../tf.js';
import { InvalidArgumentError } from '../errors.js';
import { HourglassModel } from '../model/model.js';
import { loadModel } from '../model/checkpoint.js';
import type { RasterImage } from '../geometry/affine.js';
import { decodeImage, loadImage, type RgbImage } from '../data/image.js';
import { flipPermutation, type Skeleton } from '../data/skeletons/types.js';
import { skeletonForModel } from '../data/skeletons/index.js';
import { parseBackendName, useBackend, type BackendName } from '../backend/select.js';
import { DEFAULT_MODEL, existingModelPath } from './models.js';
import { estimateInRaster, rasterFromRaw, rasterFromTensor, type EstimateOptions, type Pose, type RawImage } from './pose.js';

export type { Box, EstimateOptions, Keypoint, Pose, RawImage } from './pose.js';
export { cropForBox } from './pose.js';

/** The default model shipped in the package (LSP-14 full body; see README "Model cards"). */
export const DEFAULT_MODEL_PATH = DEFAULT_MODEL.path;

/**
 * What estimatePose accepts: a file path; an encoded image in memory (JPEG, PNG, WebP, ... as a Buffer or
 * Uint8Array); raw pixels; or a tf tensor [height, width, 1|3|4] (int32 0-255, or float32 in [0, 1]).
 */
export type ImageInput = string | Uint8Array | RawImage | Tensor;

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

export interface Estimator {
  readonly skeleton: Skeleton;
  readonly model: HourglassModel;
  /** The TF.js backend in use. */
  readonly backend: string;
  estimatePose(image: ImageInput, options?: EstimateOptions): Promise<Pose>;
  /** Frees the model's memory (unless it was passed in). The estimator cannot be used afterwards. */
  dispose(): void;
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
    return estimateInRaster(this.model, this.skeleton, this.flipPerm, await toRaster(image), options);
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
  const path = existingModelPath(options.model);
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
