// What a training run is: the network, the data, the recipe. Saved as config.json in the run folder, so that `--resume`
// needs nothing else. Defaults follow the recipe of docs/method.md "Optimiser" (RMSprop 2.5e-4, sigma 1, augmentation
// on).
import type { HourglassConfig } from '../model/config.js';
import type { ReadDatasetOptions } from '../data/readers/index.js';
import type { ScheduleSpec } from './schedule.js';
import type { AugmentOptions } from '../data/augment.js';
import type { Precision } from '../backend/precision.js';

export interface TrainConfig {
  readonly model: HourglassConfig;
  /** Training sources, concatenated (e.g. LSPET 1-6000 + LSP 1-1000). */
  readonly train: readonly ReadDatasetOptions[];
  /** Validation source (scored after each epoch), or null. */
  readonly val: ReadDatasetOptions | null;
  readonly batchSize: number;
  readonly epochs: number;
  readonly schedule: ScheduleSpec;
  /** Gaussian sigma of the targets, heatmap pixels. */
  readonly sigma: number;
  readonly seed: number;
  readonly augment: boolean;
  /** Overrides of the paper's augmentation (DEFAULT_AUGMENTATION) when `augment` is on; absent = none. */
  readonly augmentation?: Partial<AugmentOptions>;
  /** Flip test during validation. */
  readonly flipTest: boolean;
  /** Data worker threads. */
  readonly workers: number;
  /** A log line every this many steps. */
  readonly logEvery: number;
  /** A `last` checkpoint at least this often (and at every epoch end). */
  readonly checkpointMinutes: number;
  /** Stop after this many training images (null: run all epochs). */
  readonly maxImages: number | null;
  /** Backend the run was started with (informational; resume may use another). */
  readonly backend: string;
  /** Convolution precision (src/backend/precision.ts; `--resume` may change it); absent: fp32 (runs before bf16). */
  readonly precision?: Precision;
  /**
   * The checkpoint whose weights the run started from (`--init`; see src/model/init.ts), and whether its heads start
   * over because its joints are not the data's; absent: a fresh network.
   */
  readonly init?: { readonly from: string; readonly freshHeads: boolean };
  /** The learning rate rises linearly over the run's first this many steps (`--warmup`); absent or 0: none. */
  readonly warmupSteps?: number;
  /** Keep a weights-only snapshot of every epoch's end in epochs/ (`--keep-epochs`, for `export --average`). */
  readonly keepEpochs?: boolean;
  /**
   * Train without the images that cannot be read (`--skip-bad-images`): those the check before the first step finds
   * are left out, and a batch whose image fails later is skipped and logged. Absent or false: a bad image stops the
   * run (before the first step, or with a checkpoint) naming the file.
   */
  readonly skipBadImages?: boolean;
}

export const TRAIN_DEFAULTS = {
  batchSize: 16,
  epochs: 40,
  lr: 2.5e-4,
  sigma: 1,
  seed: 1,
  logEvery: 20,
  checkpointMinutes: 5,
} as const;
