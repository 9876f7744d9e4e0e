// The browser entry of the package ('hourglass/browser'): pose estimation with a model exported by
// `hourglass export --format tfjs` (model.json + weights.bin + hourglass.json), on whatever TF.js backend the page
// runs (webgl, webgpu, wasm or cpu). It shares the pipeline of the Node estimator (src/inference/: box -> crop ->
// model + flip test -> decode -> Pose) and its drawing (src/api/overlay-svg.ts), so a page gets the keypoints that
// `hourglass predict` gets. Nothing here or below imports a Node module: web/ bundles it for the browser demo, and
// tests/api/browser.test.ts checks that a browser bundle of it builds and matches the Node estimator.
import { tf } from './tf.js';
import type { Tensor, Tensor4D } from './tf.js';
import * as tfjs from '@tensorflow/tfjs';
import { FileFormatError, InvalidArgumentError } from './errors.js';
import type { RasterImage } from './geometry/affine.js';
import { flipPermutation, type Skeleton } from './data/skeletons/types.js';
import { BUILTIN_SKELETONS, parseSkeleton, skeletonForModel } from './data/skeletons/index.js';
import type { HeatmapModel } from './inference/heatmaps.js';
import { TFJS_FILES, TFJS_INFO_FORMAT } from './export/tfjs-files.js';
import { rasterFromRaw, rasterFromTensor, type EstimateOptions, type Pose, type RawImage } from './api/pose.js';
import { estimateInRaster } from './api/people.js';
import { CHANNELS } from './detect/codec.js';
import { heatmapSize } from './model/config.js';

export { tf };
export * from './errors.js';
export {
  cropForBox, type Box, type BoxInput, type EstimateOptions, type Keypoint, type Person, type Pose, type RawImage, type ScoredBoxInput,
} from './api/pose.js';
export { confidenceColour, overlaySvg } from './api/overlay-svg.js';
export { LSP14 } from './data/skeletons/lsp.js';
export { MPII16 } from './data/skeletons/mpii.js';
export { FLIC11 } from './data/skeletons/flic.js';
export { COCO17 } from './data/skeletons/coco.js';
export { BUILTIN_SKELETONS, flipPermutation, type Skeleton };
export { browserBackends, fastestBrowserBackend, type BrowserBackend } from './backend/browser.js';

/** Name of the file beside model.json that describes the network (written by `hourglass export --format tfjs`). */
export const INFO_FILE = TFJS_FILES.info;

/** What a page needs to know about an exported network, read from its hourglass.json. */
export interface ModelInfo {
  readonly inputSize: number;
  readonly joints: number;
  readonly stacks: number;
  readonly features: number;
  readonly skeleton: Skeleton;
}

/**
 * An image in the browser: raw pixels or an ImageData ({ data, width, height }; RGBA, RGB or grey), a tensor
 * [height, width, 1|3|4] (int32 0-255 or float32 in [0, 1]), or anything tf.browser.fromPixels reads
 * (HTMLImageElement, HTMLCanvasElement, HTMLVideoElement, ImageBitmap).
 */
export type BrowserImage = RawImage | Tensor | Parameters<typeof tfjs.browser.fromPixels>[0];

export interface BrowserEstimator {
  readonly info: ModelInfo;
  readonly skeleton: Skeleton;
  /** The TF.js backend in use (tf.getBackend()). */
  readonly backend: string;
  estimatePose(image: BrowserImage, options?: EstimateOptions): Promise<Pose>;
  /** Whether estimatePose searches for people when no box is given (a detector was loaded). */
  readonly findsPeople: boolean;
  /** Frees the model's weights (unless a loaded LayersModel was passed in). The estimator cannot be used afterwards. */
  dispose(): void;
}

/** A model already in memory: a loaded LayersModel (or something tf.loadLayersModel loads) and its hourglass.json. */
export interface LoadedModelSource {
  readonly model: tfjs.LayersModel | tfjs.io.IOHandler;
  /** The parsed hourglass.json. */
  readonly info: unknown;
}

export interface LoadOptions {
  /** Joint names and flip pairs; default: the skeleton in hourglass.json, else the built-in one with that many joints. */
  readonly skeleton?: Skeleton;
  /** Used to read hourglass.json and the model from a URL; default: the global fetch. */
  readonly fetch?: typeof fetch;
  /**
   * The person detector (models/person.ckpt exported with `hourglass export --format tfjs`): the URL of its
   * model.json, or the LayersModel loaded. With it, estimatePose without a box finds the people in the image;
   * without it, the person is taken to fill the image.
   */
  readonly detector?: string | tfjs.LayersModel;
}

function positiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/** Reads hourglass.json's content; `source` names the file in errors. */
export function parseModelInfo(value: unknown, source: string): ModelInfo {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FileFormatError(source, 'not a JSON object');
  const v = value as Record<string, unknown>;
  if (v['format'] !== TFJS_INFO_FORMAT) {
    throw new FileFormatError(source, `format is ${JSON.stringify(v['format'])}, expected "${TFJS_INFO_FORMAT}" (write it with hourglass export --format tfjs)`);
  }
  const config = v['config'] as Record<string, unknown> | undefined;
  if (typeof config !== 'object' || config === null) throw new FileFormatError(source, 'no config object');
  for (const key of ['inputSize', 'joints', 'stacks', 'features']) {
    if (!positiveInteger(config[key])) throw new FileFormatError(source, `config.${key} must be a positive integer, got ${JSON.stringify(config[key])}`);
  }
  const inputSize = config['inputSize'] as number;
  const joints = config['joints'] as number;
  if (inputSize % 4 !== 0) throw new FileFormatError(source, `config.inputSize ${inputSize} is not a multiple of 4`);
  let skeleton: Skeleton;
  const stored = v['skeleton'] as Record<string, unknown> | undefined;
  if (stored === undefined) {
    skeleton = skeletonForModel({}, joints, source);
  } else {
    const builtin = BUILTIN_SKELETONS.find((s) => s.id === stored['id']);
    const names = stored['joints'];
    const parsed = builtin && Array.isArray(names) && names.length === builtin.joints.length && names.every((n, i) => n === builtin.joints[i])
      ? builtin
      : parseSkeleton({ id: 'custom', flipPairs: [], edges: [], ...stored });
    if (!parsed) throw new FileFormatError(source, 'skeleton must have joint names (strings) and index pairs for flipPairs and edges');
    if (parsed.joints.length !== joints) {
      throw new FileFormatError(source, `skeleton has ${parsed.joints.length} joints, config.joints is ${joints}`);
    }
    skeleton = parsed;
  }
  return { inputSize, joints, stacks: config['stacks'] as number, features: config['features'] as number, skeleton };
}

async function fetchInfo(modelUrl: string, fetchFn: typeof fetch | undefined): Promise<{ info: unknown; url: string }> {
  const f = fetchFn ?? globalThis.fetch;
  if (typeof f !== 'function') throw new InvalidArgumentError('no fetch function to read hourglass.json with; pass options.fetch');
  const base = typeof globalThis.location === 'object' && globalThis.location ? globalThis.location.href : undefined;
  let url: string;
  try {
    url = new URL(INFO_FILE, new URL(modelUrl, base)).href;
  } catch {
    throw new InvalidArgumentError(`model URL '${modelUrl}' is not a valid URL${base ? '' : ' (outside a page it must be absolute)'}`);
  }
  let response: Response;
  try {
    response = await f(url);
  } catch (err) {
    throw new FileFormatError(url, `could not be fetched (${(err as Error).message})`);
  }
  if (!response.ok) throw new FileFormatError(url, `could not be fetched (HTTP ${response.status}); it is written beside model.json by hourglass export --format tfjs`);
  try {
    return { info: await response.json(), url };
  } catch (err) {
    throw new FileFormatError(url, `not valid JSON (${(err as Error).message})`);
  }
}

/** The loaded LayersModel as the pipeline's HeatmapModel, after checking its input and output against hourglass.json. */
function heatmapModel(layers: tfjs.LayersModel, info: ModelInfo, source: string): HeatmapModel {
  const input = layers.inputs[0]?.shape;
  const output = layers.outputs[0]?.shape;
  const s = info.inputSize;
  const h = heatmapSize(info);
  if (layers.inputs.length !== 1 || !input || input[1] !== s || input[2] !== s || input[3] !== 3) {
    throw new FileFormatError(source, `the model's input is ${JSON.stringify(input)}, hourglass.json says [null, ${s}, ${s}, 3]`);
  }
  if (layers.outputs.length !== 1 || !output || output[1] !== h || output[2] !== h || output[3] !== info.joints) {
    throw new FileFormatError(source, `the model's output is ${JSON.stringify(output)}, hourglass.json says [null, ${h}, ${h}, ${info.joints}]`);
  }
  return { config: { inputSize: s, joints: info.joints }, predict: (images: Tensor4D) => layers.predict(images) as Tensor4D };
}

/** The detector LayersModel as a HeatmapModel: a square input and CHANNELS output channels at a quarter of it. */
function detectorModel(layers: tfjs.LayersModel, source: string): HeatmapModel {
  const input = layers.inputs[0]?.shape;
  const output = layers.outputs[0]?.shape;
  const s = input?.[1];
  if (layers.inputs.length !== 1 || !input || typeof s !== 'number' || input[2] !== s || input[3] !== 3 || !output ||
    output[1] !== heatmapSize({ inputSize: s }) || output[2] !== heatmapSize({ inputSize: s }) || output[3] !== CHANNELS) {
    throw new FileFormatError(source, `not a person detector: input ${JSON.stringify(input)}, output ${JSON.stringify(output)} (expected [null, S, S, 3] and [null, S/4, S/4, ${CHANNELS}])`);
  }
  return { config: { inputSize: s, joints: CHANNELS }, predict: (images: Tensor4D) => layers.predict(images) as Tensor4D };
}

function isRaw(image: BrowserImage): image is RawImage {
  return typeof image === 'object' && image !== null && 'data' in image && 'width' in image && 'height' in image &&
    !(image instanceof tf.Tensor) && ArrayBuffer.isView((image as RawImage).data);
}

/** Any BrowserImage as an RGB raster. */
export function browserRaster(image: BrowserImage): RasterImage {
  if (image instanceof tf.Tensor) return rasterFromTensor(image);
  if (isRaw(image)) return rasterFromRaw(image);
  let pixels: Tensor | null = null;
  try {
    pixels = tfjs.browser.fromPixels(image as Parameters<typeof tfjs.browser.fromPixels>[0], 3);
  } catch (err) {
    throw new InvalidArgumentError(`image must be raw pixels { data, width, height }, an ImageData, a tensor, or an image, canvas, video or ImageBitmap element (${(err as Error).message})`);
  }
  try {
    return rasterFromTensor(pixels);
  } finally {
    pixels.dispose();
  }
}

/**
 * Loads an exported model and returns an estimator. `source` is the URL of model.json (hourglass.json is read
 * from the same folder), or a model already in memory with its hourglass.json.
 */
export async function loadEstimator(source: string | LoadedModelSource, options: LoadOptions = {}): Promise<BrowserEstimator> {
  const { info: rawInfo, url: infoSource } = typeof source === 'string'
    ? await fetchInfo(source, options.fetch)
    : { info: source.info, url: INFO_FILE };
  const info = parseModelInfo(rawInfo, infoSource); // before the weights download: a wrong folder fails fast
  const skeleton = options.skeleton ?? info.skeleton;
  if (skeleton.joints.length !== info.joints) {
    throw new InvalidArgumentError(`skeleton ${skeleton.id} has ${skeleton.joints.length} joints, the model ${info.joints}`);
  }
  const given = typeof source !== 'string' && source.model instanceof tfjs.LayersModel;
  const layers = typeof source === 'string'
    ? await tfjs.loadLayersModel(options.fetch ? tfjs.io.http(source, { fetchFunc: options.fetch }) : source)
    : source.model instanceof tfjs.LayersModel ? source.model : await tfjs.loadLayersModel(source.model);
  let model: HeatmapModel;
  try {
    model = heatmapModel(layers, info, typeof source === 'string' ? source : 'model');
  } catch (err) {
    if (!given) layers.dispose();
    throw err;
  }
  const detectorGiven = options.detector instanceof tfjs.LayersModel;
  let detectorLayers: tfjs.LayersModel | null = null;
  let detector: HeatmapModel | null = null;
  if (options.detector !== undefined) {
    try {
      detectorLayers = typeof options.detector === 'string'
        ? await tfjs.loadLayersModel(options.fetch ? tfjs.io.http(options.detector, { fetchFunc: options.fetch }) : options.detector)
        : options.detector;
      detector = detectorModel(detectorLayers, typeof options.detector === 'string' ? options.detector : 'detector');
    } catch (err) {
      if (detectorLayers && !detectorGiven) detectorLayers.dispose();
      if (!given) layers.dispose();
      throw err;
    }
  }
  const nets = { model, skeleton, flipPerm: flipPermutation(skeleton), detector };
  let disposed = false;
  return {
    info,
    skeleton,
    findsPeople: detector !== null,
    get backend() {
      return tf.getBackend();
    },
    async estimatePose(image: BrowserImage, estimateOptions: EstimateOptions = {}): Promise<Pose> {
      if (disposed) throw new InvalidArgumentError('estimator has been disposed');
      return estimateInRaster(nets, browserRaster(image), estimateOptions);
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      if (!given) layers.dispose();
      if (detectorLayers && !detectorGiven) detectorLayers.dispose();
    },
  };
}
