// Batches for training and evaluation, prepared in worker threads ahead of the consumer (docs/design.md "Pipeline";
// docs/method.md "Data preparation and augmentation"). Deterministic: content depends on (seed, epoch, position) only.
import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from '../errors.js';
import type { Affine } from '../geometry/affine.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { augmentOptions } from './augment.js';
import type { AugmentOptions } from './augment.js';
import { WorkerPool } from './pool.js';
import type { BoxRule, Dataset, Sample } from './sample.js';
import { errorFromInfo } from './task.js';
import type { PipelineResult, PipelineTask, TaskItem, WorkerConfig } from './task.js';

export interface TrainBatch {
  readonly size: number;
  /** [B, S, S, 3] RGB in [0, 1], augmented. */
  readonly inputs: Float32Array;
  /** [B, h, h, K] Gaussian targets. */
  readonly targets: Float32Array;
  /** [B, K] per-joint loss weights (0 = unlabelled, masked). */
  readonly weights: Float32Array;
  readonly sampleIds: string[];
  readonly epoch: number;
  readonly stepInEpoch: number;
}

export interface EvalBatch {
  readonly size: number;
  /** [B, S, S, 3] RGB in [0, 1], no augmentation. */
  readonly inputs: Float32Array;
  readonly samples: Sample[];
  /** Per sample: original image -> heatmap frame; invertAffine maps decoded heatmap points back to the image. */
  readonly imageToHeatmap: Affine[];
  /** The same people cropped at each factor of the source's `scales` ([B, S, S, 3] each; none without scales). */
  readonly rescaled: { readonly factor: number; readonly inputs: Float32Array }[];
  /** The same crops at each of the source's other `sizes` ([B, z, z, 3]), and their rescaled crops in `rescaled`'s order. */
  readonly sized: { readonly size: number; readonly inputs: Float32Array; readonly rescaled: readonly Float32Array[] }[];
}

export interface PipelineOptions {
  readonly inputSize: number;
  readonly heatmapSize: number;
  /** Gaussian sigma of the targets, heatmap pixels. */
  readonly sigma: number;
  /** K: joints of every dataset's skeleton. */
  readonly joints: number;
  /** flipPermutation of the skeleton. */
  readonly flipPerm: number[];
  /** Worker threads; default max(1, cores - 1). */
  readonly workers?: number;
  /** Batches prepared ahead of the one being consumed; default 3. */
  readonly prefetch?: number;
}

export interface TrainSourceOptions extends PipelineOptions {
  /** Several sources at once (e.g. LSPET + LSP), concatenated in this order before shuffling. */
  readonly datasets: Dataset[];
  readonly batchSize: number;
  /** Run seed: with (epoch, position) it fixes the shuffle and every sample's augmentation. */
  readonly seed: number;
  /** Resume position: the first batch yielded is (startEpoch, startStep). */
  readonly startEpoch: number;
  readonly startStep: number;
  /** The paper's augmentation with these overrides (`{}`: all defaults, DEFAULT_AUGMENTATION); null: crop only. */
  readonly augmentation: Partial<AugmentOptions> | null;
}

/** Evaluation: every sample of `datasets` in order, no augmentation. */
export type EvalSourceOptions = PipelineOptions & {
  readonly datasets: Dataset[];
  readonly batchSize: number;
  /** Also crop every sample at these factors of its crop's side, same centre (the multi-scale test); default none. */
  readonly scales?: readonly number[];
  /** Also crop every sample (and each scale) at these other input sizes (an ensemble's smaller members); default none. */
  readonly sizes?: readonly number[];
};

export interface TrainSource {
  /** The next batch: epoch e's samples in a seeded shuffled order, the last incomplete batch dropped; endless. */
  next(): Promise<TrainBatch>;
  readonly stepsPerEpoch: number;
  /** Samples in all datasets together. */
  readonly samples: number;
  /** Terminates the workers; pending next() calls reject. */
  close(): Promise<void>;
}

export interface EvalSource extends AsyncIterable<EvalBatch> {
  /** Batches per pass (the last may be smaller). Each `for await` makes a new pass in dataset order. */
  readonly batches: number;
  readonly samples: number;
  close(): Promise<void>;
}

interface Entry {
  readonly sample: Sample;
  readonly boxRule: BoxRule;
}

/** The pipeline's default worker count: every core but one (the trainer's), at least one. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism() - 1);
}

/** The sample order of an epoch: a shuffle of 0..n-1 seeded by (seed, epoch). */
export function epochOrder(seed: number, epoch: number, n: number): number[] {
  return new Rng(deriveSeed(seed, epoch)).shuffle(Array.from({ length: n }, (_, i) => i));
}

function positiveInt(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`${what} must be a positive integer, got ${value}`);
}

function checkPipeline(o: PipelineOptions, datasets: Dataset[], batchSize: number): Entry[] {
  positiveInt(o.inputSize, 'inputSize');
  positiveInt(o.heatmapSize, 'heatmapSize');
  positiveInt(o.joints, 'joints');
  positiveInt(batchSize, 'batchSize');
  if (o.workers !== undefined) positiveInt(o.workers, 'workers');
  if (o.prefetch !== undefined) positiveInt(o.prefetch, 'prefetch');
  if (!(o.sigma > 0)) throw new InvalidArgumentError(`sigma must be > 0, got ${o.sigma}`);
  if (o.flipPerm.length !== o.joints || !o.flipPerm.every((j) => Number.isInteger(j) && j >= 0 && j < o.joints)) {
    throw new InvalidArgumentError(`flipPerm must be a permutation of 0..${o.joints - 1}, got [${o.flipPerm.join(', ')}]`);
  }
  if (datasets.length === 0) throw new InvalidArgumentError('the pipeline needs at least one dataset');
  const entries: Entry[] = [];
  for (const d of datasets) {
    if (d.skeleton.joints.length !== o.joints) {
      throw new InvalidArgumentError(`dataset ${d.name} (${d.source}) has ${d.skeleton.joints.length} joints (${d.skeleton.id}), the pipeline expects ${o.joints}`);
    }
    for (const sample of d.samples) entries.push({ sample, boxRule: d.boxRule });
  }
  return entries;
}

function createPool(o: PipelineOptions, augmentation: AugmentOptions | null): WorkerPool<PipelineTask, PipelineResult> {
  const config: WorkerConfig = {
    inputSize: o.inputSize, heatmapSize: o.heatmapSize, sigma: o.sigma, joints: o.joints, flipPerm: [...o.flipPerm], augmentation,
  };
  return new WorkerPool(new URL('./worker.js', import.meta.url), o.workers ?? defaultWorkers(), config, errorFromInfo);
}

/** Runs `items` split over the workers, results in item order. */
async function runSplit(
  pool: WorkerPool<PipelineTask, PipelineResult>, items: TaskItem[], targets: boolean, scales: readonly number[] = [],
  sizes: readonly number[] = [],
): Promise<PipelineResult[]> {
  const parts = Math.min(items.length, pool.size);
  const tasks: Promise<PipelineResult>[] = [];
  for (let p = 0, start = 0; p < parts; p++) {
    const end = start + Math.ceil((items.length - start) / (parts - p));
    tasks.push(pool.run({ items: items.slice(start, end), targets, scales, sizes }));
    start = end;
  }
  for (const t of tasks) t.catch(() => undefined);
  return Promise.all(tasks);
}

function concat(parts: (Float32Array | null)[], total: number): Float32Array {
  const out = new Float32Array(total);
  let offset = 0;
  for (const part of parts) {
    if (part === null) throw new Error('internal: a worker returned no targets or rescaled crops');
    out.set(part, offset);
    offset += part.length;
  }
  if (offset !== total) throw new Error(`internal: workers returned ${offset} values, expected ${total}`);
  return out;
}

/** A promise the caller will await later: its rejection must not count as unhandled meanwhile. */
function held<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

export function createTrainSource(o: TrainSourceOptions): TrainSource {
  const entries = checkPipeline(o, o.datasets, o.batchSize);
  if (!Number.isSafeInteger(o.seed)) throw new InvalidArgumentError(`seed must be a safe integer, got ${o.seed}`);
  const augmentation = o.augmentation === null ? null : augmentOptions(o.augmentation);
  const B = o.batchSize;
  const stepsPerEpoch = Math.floor(entries.length / B);
  if (stepsPerEpoch < 1) throw new InvalidArgumentError(`batchSize ${B} is larger than the ${entries.length} training samples`);
  if (!Number.isInteger(o.startEpoch) || o.startEpoch < 0) throw new InvalidArgumentError(`startEpoch must be an integer >= 0, got ${o.startEpoch}`);
  // startStep = stepsPerEpoch: the epoch's steps are all done (a checkpoint of its last step); the next is epoch + 1's first.
  if (!Number.isInteger(o.startStep) || o.startStep < 0 || o.startStep > stepsPerEpoch) {
    throw new InvalidArgumentError(`startStep must be an integer in [0, ${stepsPerEpoch}], got ${o.startStep}`);
  }
  const { inputSize: S, heatmapSize: h, joints: K } = o;
  const pool = createPool(o, augmentation);
  const orders = new Map<number, number[]>();
  const orderOf = (epoch: number): number[] => {
    let order = orders.get(epoch);
    if (!order) {
      order = epochOrder(o.seed, epoch, entries.length);
      orders.set(epoch, order);
      for (const e of orders.keys()) if (e < epoch - 1) orders.delete(e);
    }
    return order;
  };

  const makeBatch = async (epoch: number, step: number): Promise<TrainBatch> => {
    const order = orderOf(epoch);
    const items: TaskItem[] = [];
    for (let i = 0; i < B; i++) {
      const position = step * B + i;
      const { sample, boxRule } = entries[order[position]];
      items.push({ sample, boxRule, seed: augmentation === null ? null : deriveSeed(o.seed, epoch, position) });
    }
    const parts = await runSplit(pool, items, true);
    return {
      size: B,
      inputs: concat(parts.map((r) => r.inputs), B * S * S * 3),
      targets: concat(parts.map((r) => r.targets), B * h * h * K),
      weights: concat(parts.map((r) => r.weights), B * K),
      sampleIds: items.map((it) => it.sample.id),
      epoch,
      stepInEpoch: step,
    };
  };

  const prefetch = o.prefetch ?? 3;
  const queue: Promise<TrainBatch>[] = [];
  let epoch = o.startStep === stepsPerEpoch ? o.startEpoch + 1 : o.startEpoch;
  let step = o.startStep === stepsPerEpoch ? 0 : o.startStep;
  let closed = false;
  const fill = (): void => {
    while (queue.length < prefetch + 1) {
      queue.push(held(makeBatch(epoch, step)));
      step++;
      if (step === stepsPerEpoch) {
        step = 0;
        epoch++;
      }
    }
  };
  fill();

  return {
    stepsPerEpoch,
    samples: entries.length,
    next(): Promise<TrainBatch> {
      if (closed) return Promise.reject(new Error('train source is closed'));
      const head = queue.shift() as Promise<TrainBatch>;
      fill();
      return head;
    },
    async close(): Promise<void> {
      closed = true;
      queue.length = 0;
      await pool.close();
    },
  };
}

export function createEvalSource(o: EvalSourceOptions): EvalSource {
  const entries = checkPipeline(o, o.datasets, o.batchSize);
  const B = o.batchSize;
  const S = o.inputSize;
  const scales = [...(o.scales ?? [])];
  for (const f of scales) {
    if (!(f > 0) || !Number.isFinite(f)) throw new InvalidArgumentError(`crop scale factors must be positive numbers, got ${f}`);
  }
  const sizes = [...(o.sizes ?? [])];
  for (const z of sizes) {
    if (!Number.isInteger(z) || z < 4 || z % 4 !== 0) throw new InvalidArgumentError(`crop sizes must be positive multiples of 4, got ${z}`);
  }
  const batches = Math.ceil(entries.length / B);
  const prefetch = o.prefetch ?? 3;
  const pool = createPool(o, null);

  const makeBatch = async (index: number): Promise<EvalBatch> => {
    const slice = entries.slice(index * B, (index + 1) * B);
    const items: TaskItem[] = slice.map(({ sample, boxRule }) => ({ sample, boxRule, seed: null }));
    const parts = await runSplit(pool, items, false, scales, sizes);
    const n = slice.length;
    return {
      size: slice.length,
      inputs: concat(parts.map((r) => r.inputs), slice.length * S * S * 3),
      samples: slice.map((e) => e.sample),
      imageToHeatmap: parts.flatMap((r) => r.frames),
      rescaled: scales.map((factor, j) => ({ factor, inputs: concat(parts.map((r) => r.rescaled[j] ?? null), n * S * S * 3) })),
      sized: sizes.map((size, k) => ({
        size,
        inputs: concat(parts.map((r) => r.sized[k]?.inputs ?? null), n * size * size * 3),
        rescaled: scales.map((_, j) => concat(parts.map((r) => r.sized[k]?.rescaled[j] ?? null), n * size * size * 3)),
      })),
    };
  };

  async function* pass(): AsyncGenerator<EvalBatch> {
    const queue: Promise<EvalBatch>[] = [];
    let scheduled = 0;
    const fill = (): void => {
      while (queue.length < prefetch + 1 && scheduled < batches) queue.push(held(makeBatch(scheduled++)));
    };
    fill();
    while (queue.length > 0) {
      const head = queue.shift() as Promise<EvalBatch>;
      fill();
      yield await head;
    }
  }

  return {
    batches,
    samples: entries.length,
    [Symbol.asyncIterator]: () => pass(),
    close: () => pool.close(),
  };
}
