// The work one data worker does for a slice of a batch (docs/design.md "Pipeline"): decode, draw the augmentation
// from the sample's own seed (docs/method.md "Data preparation and augmentation"), crop, encode targets. Pure of
// thread state.
import { HeatmapCodec } from '../codec/heatmap.js';
import { FileFormatError } from '../errors.js';
import type { Affine } from '../geometry/affine.js';
import { Rng } from '../util/rng.js';
import { IDENTITY_AUGMENTATION, sampleAugmentation } from './augment.js';
import type { AugmentOptions } from './augment.js';
import { loadImage } from './image.js';
import type { RgbImage } from './image.js';
import { prepareInput, prepareSample, sampleFrames } from './prepare.js';
import type { BoxRule, Sample } from './sample.js';
import type { WorkerErrorInfo } from './pool.js';

/** Fixed for the life of a worker (sent as workerData). */
export interface WorkerConfig {
  readonly inputSize: number;
  readonly heatmapSize: number;
  readonly sigma: number;
  readonly joints: number;
  readonly flipPerm: readonly number[];
  readonly augmentation: AugmentOptions | null;
}

export interface TaskItem {
  readonly sample: Sample;
  readonly boxRule: BoxRule;
  /** Seed of this sample's augmentation (deriveSeed(seed, epoch, position)); null = no augmentation. */
  readonly seed: number | null;
}

export interface PipelineTask {
  readonly items: readonly TaskItem[];
  /** false: inputs and frames only (evaluation). */
  readonly targets: boolean;
  /**
   * Evaluation only (no targets, no augmentation): also crop each item at these factors of its crop's side, same
   * centre (the multi-scale test, src/inference/multi-scale.ts). The frames stay those of factor 1.
   */
  readonly scales?: readonly number[];
  /**
   * Evaluation only: also crop each item (at factor 1 and at each of `scales`) at these other input sizes, the same
   * square of the image (an ensemble's members of other input sizes, src/inference/ensemble.ts).
   */
  readonly sizes?: readonly number[];
}

export interface PipelineResult {
  /** [n, S, S, 3] */
  readonly inputs: Float32Array;
  /** [n, h, h, K], null when targets were not asked for. */
  readonly targets: Float32Array | null;
  /** [n, K], null when targets were not asked for. */
  readonly weights: Float32Array | null;
  /** Per item: image -> heatmap frame. */
  readonly frames: Affine[];
  /** One [n, S, S, 3] array per factor of the task's `scales`, in that order (none without scales). */
  readonly rescaled: Float32Array[];
  /** Per size of the task's `sizes`, in that order: [n, z, z, 3] crops at factor 1 and at each of `scales`. */
  readonly sized: { readonly inputs: Float32Array; readonly rescaled: Float32Array[] }[];
}

/** Runs tasks with one codec; `load` is injectable for tests. */
export class TaskRunner {
  private readonly codec: HeatmapCodec;

  constructor(
    private readonly config: WorkerConfig,
    private readonly load: (path: string) => Promise<RgbImage> = (path) => loadImage(path),
  ) {
    this.codec = new HeatmapCodec({ size: { width: config.heatmapSize, height: config.heatmapSize }, sigma: config.sigma });
  }

  async run(task: PipelineTask): Promise<PipelineResult> {
    const { inputSize: S, heatmapSize: h, joints: K } = this.config;
    const n = task.items.length;
    // Start every decode at once (sharp decodes off the JS thread) and crop them in order as they arrive.
    const images = task.items.map((item) => this.load(item.sample.imagePath));
    for (const p of images) p.catch(() => undefined); // an early failure must not leave later rejections unhandled
    const inputs = new Float32Array(n * S * S * 3);
    const targets = task.targets ? new Float32Array(n * h * h * K) : null;
    const weights = task.targets ? new Float32Array(n * K) : null;
    const frames: Affine[] = [];
    const scales = task.scales ?? [];
    const sizes = task.sizes ?? [];
    if ((scales.length > 0 || sizes.length > 0) && task.targets) throw new Error('internal: rescaled and resized crops are for evaluation only');
    const rescaled = scales.map(() => new Float32Array(n * S * S * 3));
    const sized = sizes.map((z) => ({ inputs: new Float32Array(n * z * z * 3), rescaled: scales.map(() => new Float32Array(n * z * z * 3)) }));
    for (let i = 0; i < n; i++) {
      const { sample, boxRule, seed } = task.items[i];
      if (sample.visible.length !== K) {
        throw new FileFormatError(sample.imagePath, `sample ${sample.id} has ${sample.visible.length} joints, the pipeline expects ${K}`);
      }
      const image = await images[i];
      const augmentation = seed === null || this.config.augmentation === null ? null : sampleAugmentation(new Rng(seed), this.config.augmentation);
      const common = { inputSize: S, heatmapSize: h, boxRule, augmentation };
      if (targets && weights) {
        const prepared = prepareSample(image, sample, { ...common, codec: this.codec, flipPerm: this.config.flipPerm });
        inputs.set(prepared.input, i * S * S * 3);
        targets.set(prepared.heatmaps, i * h * h * K);
        weights.set(prepared.weights, i * K);
        frames.push(prepared.imageToHeatmap);
      } else {
        const f = sampleFrames(sample, common);
        inputs.set(prepareInput(image, f.imageToInput, S, augmentation?.colour), i * S * S * 3);
        frames.push(f.imageToHeatmap);
        scales.forEach((factor, j) => {
          const scaled = sampleFrames(sample, { ...common, augmentation: { ...IDENTITY_AUGMENTATION, scaleFactor: factor } });
          rescaled[j].set(prepareInput(image, scaled.imageToInput, S), i * S * S * 3);
        });
        sizes.forEach((z, k) => {
          const at = { ...common, inputSize: z, heatmapSize: z / 4 };
          sized[k].inputs.set(prepareInput(image, sampleFrames(sample, at).imageToInput, z), i * z * z * 3);
          scales.forEach((factor, j) => {
            const scaled = sampleFrames(sample, { ...at, augmentation: { ...IDENTITY_AUGMENTATION, scaleFactor: factor } });
            sized[k].rescaled[j].set(prepareInput(image, scaled.imageToInput, z), i * z * z * 3);
          });
        });
      }
    }
    return { inputs, targets, weights, frames, rescaled, sized };
  }
}

/** An error as it crosses the thread boundary. */
export function errorInfo(err: unknown): WorkerErrorInfo {
  if (err instanceof FileFormatError) {
    const detail = err.message.startsWith(`${err.file}: `) ? err.message.slice(err.file.length + 2) : err.message;
    return { name: err.name, message: err.message, file: err.file, detail };
  }
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

/** The error that a rejected next() carries: FileFormatError (naming the file) when it was one. */
export function errorFromInfo(info: WorkerErrorInfo): Error {
  if (info.name === 'FileFormatError' && info.file !== undefined) return new FileFormatError(info.file, info.detail ?? info.message);
  const err = new Error(`data worker: ${info.message}`);
  err.name = info.name;
  return err;
}
