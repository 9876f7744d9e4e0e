// The public face for users who want poses, not training: createEstimator() -> estimatePose(image) -> Pose, in
// Node: images from files and encoded buffers too, checkpoints from disk, the fastest backend. The pipeline itself
// (box -> crop -> model -> decode -> Pose) is src/inference/, shared with the browser entry (src/browser.ts).
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
import { parsePrecision, usePrecision, type Precision, type PrecisionRequest } from '../backend/precision.js';
import { DEFAULT_MODEL, PEOPLE_SEARCH_MODEL, PERSON_DETECTOR, bundledNetworkPath, loadPoseNetwork } from './models.js';
import { LSP14 } from '../data/skeletons/lsp.js';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { Ensemble, type PoseNetwork } from '../inference/ensemble.js';
import { rasterFromRaw, rasterFromTensor, type EstimateOptions, type Pose, type RawImage } from './pose.js';
import { estimateInRaster } from './people.js';
import { CHANNELS } from '../detect/codec.js';

export type { Box, BoxInput, EstimateOptions, Keypoint, Person, Pose, RawImage, ScoredBoxInput } from './pose.js';
export { cropForBox } from './pose.js';

/** The default model shipped in the package (LSP-14 full body; see docs/models/lsp14.md). */
export const DEFAULT_MODEL_PATH = DEFAULT_MODEL.path;

/**
 * What estimatePose accepts: a file path; an encoded image in memory (JPEG, PNG, WebP, ... as a Buffer or
 * Uint8Array); raw pixels; or a tf tensor [height, width, 1|3|4] (int32 0-255, or float32 in [0, 1]).
 */
export type ImageInput = string | Uint8Array | RawImage | Tensor;

export interface EstimatorOptions {
  /**
   * A checkpoint path, a bundled model's name ('lsp14', 'flic', 'lsp14-256', 'lsp14-ensemble': BUNDLED_MODELS),
   * several of those joined by commas (an ensemble: their heatmaps averaged, src/inference/ensemble.ts), or a model
   * already in memory (the estimator then does not dispose it). Default: the bundled LSP-14 model.
   */
  readonly model?: string | PoseNetwork;
  /** 'auto' (default: the fastest available), 'native', 'wasm', 'cpu', 'tensorflow', 'webgpu' (Node: through Dawn, docs/gpu.md). */
  readonly backend?: BackendName | 'auto';
  /** Joint names and flip pairs; default: the skeleton stored with the model. */
  readonly skeleton?: Skeleton;
  /**
   * 'fp32' (default), 'bf16' (native backend on a CPU with bf16 instructions: heatmaps within 2e-2 of fp32's peak,
   * see tests/backend/native-bf16-infer.test.ts) or 'auto' (bf16 where it runs natively). Sets the native backend's
   * precision for the whole process.
   */
  readonly precision?: PrecisionRequest;
  /**
   * The person detector estimatePose searches images with when no box is given: a checkpoint path, a model in
   * memory (not disposed by the estimator), or false for none (the person is then taken to fill the image).
   * Default: the bundled one (models/person.ckpt).
   */
  readonly detector?: string | HourglassModel | false;
}

export interface Estimator {
  readonly skeleton: Skeleton;
  readonly model: PoseNetwork;
  /** The person detector, or null when there is none. */
  readonly detector: HourglassModel | null;
  /**
   * The pose network the person search checks and re-crops candidates with when it is not `model` (null: `model`):
   * the bundled LSP-14 model, whenever the bundled detector is in use and `model`, loaded from a file (or files), is
   * another network of the LSP-14 joints: the search's thresholds were chosen with that pair (docs/people.md).
   */
  readonly searchModel: HourglassModel | null;
  /** The TF.js backend in use. */
  readonly backend: string;
  /** The precision in use (fp32, or bf16 on native). */
  readonly precision: Precision;
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

  constructor(
    readonly model: PoseNetwork, readonly skeleton: Skeleton, readonly backend: string, readonly precision: Precision,
    private readonly owned: boolean, readonly detector: HourglassModel | null, private readonly ownsDetector: boolean,
    readonly searchModel: HourglassModel | null, private readonly ownsSearchModel: boolean,
  ) {
    this.flipPerm = flipPermutation(skeleton);
  }

  async estimatePose(image: ImageInput, options: EstimateOptions = {}): Promise<Pose> {
    if (this.disposed) throw new InvalidArgumentError('estimator has been disposed');
    const nets = {
      model: this.model, skeleton: this.skeleton, flipPerm: this.flipPerm, detector: this.detector,
      ...(this.searchModel ? { searchModel: this.searchModel } : {}),
    };
    return estimateInRaster(nets, await toRaster(image), options);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.owned) this.model.dispose();
    if (this.ownsDetector) this.detector?.dispose();
    if (this.ownsSearchModel) this.searchModel?.dispose();
  }
}

/** The detector a spec names (loaded when it is a path or the default), and whether the estimator owns it. */
function loadDetector(spec: EstimatorOptions['detector']): { detector: HourglassModel | null; owned: boolean } {
  if (spec === false) return { detector: null, owned: false };
  const detector = spec instanceof HourglassModel ? spec : loadModel(spec ?? bundledNetworkPath(PERSON_DETECTOR)).model;
  if (detector.config.joints !== CHANNELS) {
    if (!(spec instanceof HourglassModel)) detector.dispose();
    throw new InvalidArgumentError(`${typeof spec === 'string' ? spec : 'the detector'} is not a person detector: it has ${detector.config.joints} output channels, a detector ${CHANNELS}`);
  }
  return { detector, owned: !(spec instanceof HourglassModel) };
}

/** Loads a model (default: the bundled one) on a backend (default: the fastest available) and returns an estimator. */
export async function createEstimator(options: EstimatorOptions = {}): Promise<Estimator> {
  const choice = await useBackend(parseBackendName(options.backend ?? 'auto'));
  const { precision } = await usePrecision(parsePrecision(options.precision ?? 'fp32'), choice.name);
  if (options.model instanceof HourglassModel || options.model instanceof Ensemble) {
    const skeleton = options.skeleton ?? skeletonForModel({}, options.model.config.joints, 'model');
    checkSkeleton(skeleton, options.model);
    const { detector, owned } = loadDetector(options.detector);
    return new HourglassEstimator(options.model, skeleton, choice.name, precision, false, detector, owned, null, false);
  }
  const { model, meta, paths } = loadPoseNetwork(options.model);
  let found: ReturnType<typeof loadDetector> | undefined;
  try {
    const skeleton = options.skeleton ?? skeletonForModel(meta, model.config.joints, paths[0]);
    checkSkeleton(skeleton, model);
    found = loadDetector(options.detector);
    const search = searchModelFor(options, skeleton, found.detector, model, paths);
    return new HourglassEstimator(model, skeleton, choice.name, precision, true, found.detector, found.owned, search.model, search.owned);
  } catch (err) {
    model.dispose();
    if (found?.owned) found.detector?.dispose();
    throw err;
  }
}

/**
 * The search's own pose network (Estimator.searchModel): the bundled LSP-14 model when the bundled detector searches
 * for a model loaded from `paths` (one file or an ensemble) of the LSP-14 joints other than that file. The search's
 * person score weighs the pose network's mean joint score, whose scale differs between networks (the 256-px depth-5
 * LSP-14 network's peaks are about half lsp14's), so its thresholds hold for the network they were chosen with. A model
 * passed in memory, or any with another detector, checks the candidates itself. An ensemble with lsp14 among its
 * members lends it that member (owned by the ensemble) rather than loading it twice.
 */
function searchModelFor(
  options: EstimatorOptions, skeleton: Skeleton, detector: HourglassModel | null, model: PoseNetwork, paths: string[],
): { model: HourglassModel | null; owned: boolean } {
  const none = { model: null, owned: false };
  if (detector === null || options.detector !== undefined) return none;
  if (skeleton.joints.join() !== LSP14.joints.join()) return none;
  const own = resolve(PEOPLE_SEARCH_MODEL.path);
  if (!existsSync(own) || (paths.length === 1 && resolve(paths[0]) === own)) return none;
  const member = paths.findIndex((p) => resolve(p) === own);
  if (member >= 0 && model instanceof Ensemble) return { model: model.members[member], owned: false };
  return { model: loadModel(own).model, owned: true };
}

function checkSkeleton(skeleton: Skeleton, model: PoseNetwork): void {
  if (skeleton.joints.length !== model.config.joints) {
    throw new InvalidArgumentError(`skeleton ${skeleton.id} has ${skeleton.joints.length} joints, the model ${model.config.joints}`);
  }
}

export type { RgbImage };
