// What a training run is: the network, the data, the recipe. Saved as config.json in the run folder, so that `--resume`
// needs nothing else. Defaults follow the recipe of docs/method.md "Optimiser" (RMSprop 2.5e-4, sigma 1, augmentation
// on).
import { FileFormatError, HourglassError } from '../errors.js';
import { makeConfig, type HourglassConfig } from '../model/config.js';
import { DATASET_FORMATS, type ReadDatasetOptions } from '../data/readers/index.js';
import type { ScheduleSpec } from './schedule.js';
import type { AugmentOptions } from '../data/augment.js';
import { PRECISIONS, type Precision } from '../backend/precision.js';

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
  /** What a learning-rate drop (`--lr-drop`, `--plateau`) multiplies the rate by. */
  lrFactor: 0.2,
  sigma: 1,
  seed: 1,
  logEvery: 20,
  checkpointMinutes: 5,
} as const;

/** The checks of one file's fields: each failure names the file and the field (`schedule.base`, `train[1].root`). */
class Fields {
  constructor(private readonly file: string) {}

  fail(field: string, expected: string, got: unknown): never {
    throw new FileFormatError(this.file, `${field} must be ${expected}, got ${JSON.stringify(got) ?? 'nothing'}`);
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(field, 'an object', value);
    return value as Record<string, unknown>;
  }

  known(o: Record<string, unknown>, keys: readonly string[], where: string): void {
    const unknown = Object.keys(o).filter((k) => !keys.includes(k));
    if (unknown.length) {
      throw new FileFormatError(this.file, `unknown field ${where}${unknown[0]} (known: ${keys.join(', ')})`);
    }
  }

  int(value: unknown, field: string, min: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) this.fail(field, `an integer >= ${min}`, value);
    return value;
  }

  positive(value: unknown, field: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0)) this.fail(field, 'a number > 0', value);
    return value;
  }

  nonNegative(value: unknown, field: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) this.fail(field, 'a number >= 0', value);
    return value;
  }

  boolean(value: unknown, field: string): boolean {
    if (typeof value !== 'boolean') this.fail(field, 'true or false', value);
    return value;
  }

  string(value: unknown, field: string): string {
    if (typeof value !== 'string' || value === '') this.fail(field, 'a non-empty string', value);
    return value;
  }

  /** A data source: its format and its root or file; the rest is checked by the reader when it reads the data. */
  source(value: unknown, field: string): ReadDatasetOptions {
    const o = this.object(value, field);
    if (!(DATASET_FORMATS as readonly unknown[]).includes(o['format'])) this.fail(`${field}.format`, `one of ${DATASET_FORMATS.join(', ')}`, o['format']);
    const needs = ['lsp', 'lspet', 'mpii', 'flic'].includes(o['format'] as string) ? 'root' : 'file';
    this.string(o[needs], `${field}.${needs}`);
    if (o['images'] !== undefined && typeof o['images'] !== 'string' && !Array.isArray(o['images'])) {
      this.fail(`${field}.images`, 'a range such as "1-6000" or a list of record numbers', o['images']);
    }
    return o as unknown as ReadDatasetOptions;
  }

  schedule(value: unknown): ScheduleSpec {
    const o = this.object(value, 'schedule');
    const base = this.positive(o['base'], 'schedule.base');
    const factor = this.positive(o['factor'], 'schedule.factor');
    if (o['kind'] === 'steps') {
      this.known(o, ['kind', 'base', 'dropEpochs', 'factor'], 'schedule.');
      if (!Array.isArray(o['dropEpochs'])) this.fail('schedule.dropEpochs', 'a list of epochs', o['dropEpochs']);
      const dropEpochs = (o['dropEpochs'] as unknown[]).map((e, i) => this.int(e, `schedule.dropEpochs[${i}]`, 1));
      return { kind: 'steps', base, dropEpochs, factor };
    }
    if (o['kind'] === 'plateau') {
      this.known(o, ['kind', 'base', 'patience', 'factor', 'minLr'], 'schedule.');
      return { kind: 'plateau', base, patience: this.int(o['patience'], 'schedule.patience', 1), factor, minLr: this.nonNegative(o['minLr'], 'schedule.minLr') };
    }
    return this.fail('schedule.kind', '"steps" or "plateau"', o['kind']);
  }
}

const CONFIG_FIELDS = [
  'model', 'train', 'val', 'batchSize', 'epochs', 'schedule', 'sigma', 'seed', 'augment', 'augmentation', 'flipTest',
  'workers', 'logEvery', 'checkpointMinutes', 'maxImages', 'backend', 'precision', 'init', 'warmupSteps', 'keepEpochs',
  'skipBadImages',
] as const satisfies readonly (keyof TrainConfig)[];

/**
 * A run's config.json as read back (`train --resume`), checked field by field: a missing, mistyped or unknown field
 * is a FileFormatError naming `file` and the field. Fields added after a run was started may be absent (see
 * TrainConfig); the data sources' own fields are checked by the readers.
 */
export function parseTrainConfig(value: unknown, file: string): TrainConfig {
  const f = new Fields(file);
  const o = f.object(value, 'the run config');
  f.known(o, CONFIG_FIELDS, '');
  const given = f.object(o['model'], 'model');
  let model: HourglassConfig;
  try {
    model = makeConfig(given as Partial<HourglassConfig>);
  } catch (err) {
    if (err instanceof HourglassError) throw new FileFormatError(file, `model: ${err.message}`);
    throw err;
  }
  for (const key of Object.keys(model)) {
    if (given[key] === undefined) f.fail(`model.${key}`, 'an integer', undefined);
  }
  if (!Array.isArray(o['train']) || o['train'].length === 0) f.fail('train', 'a non-empty list of data sources', o['train']);
  const augmentation = o['augmentation'] === undefined ? undefined : f.object(o['augmentation'], 'augmentation');
  for (const [key, v] of Object.entries(augmentation ?? {})) {
    if (typeof v !== 'number' || !Number.isFinite(v)) f.fail(`augmentation.${key}`, 'a number', v);
  }
  const isPrecision = (v: unknown): v is Precision => (PRECISIONS as readonly unknown[]).includes(v);
  const p = o['precision'];
  const precision = p === undefined ? undefined : isPrecision(p) ? p : f.fail('precision', PRECISIONS.join(' or '), p);
  const init = o['init'] === undefined ? undefined : f.object(o['init'], 'init');
  const optional = <K extends string, T>(key: K, v: unknown, check: (v: unknown, field: string) => T): { [P in K]?: T } =>
    (v === undefined ? {} : { [key]: check(v, key) }) as { [P in K]?: T };
  return {
    model,
    train: (o['train'] as unknown[]).map((s, i) => f.source(s, `train[${i}]`)),
    val: o['val'] === null ? null : f.source(o['val'], 'val'),
    batchSize: f.int(o['batchSize'], 'batchSize', 1),
    epochs: f.int(o['epochs'], 'epochs', 1),
    schedule: f.schedule(o['schedule']),
    sigma: f.positive(o['sigma'], 'sigma'),
    seed: f.int(o['seed'], 'seed', 0),
    augment: f.boolean(o['augment'], 'augment'),
    ...(augmentation !== undefined ? { augmentation: augmentation as Partial<AugmentOptions> } : {}),
    flipTest: f.boolean(o['flipTest'], 'flipTest'),
    workers: f.int(o['workers'], 'workers', 1),
    logEvery: f.int(o['logEvery'], 'logEvery', 1),
    checkpointMinutes: f.nonNegative(o['checkpointMinutes'], 'checkpointMinutes'),
    maxImages: o['maxImages'] === null ? null : f.int(o['maxImages'], 'maxImages', 1),
    backend: f.string(o['backend'], 'backend'),
    ...(precision !== undefined ? { precision } : {}),
    ...(init !== undefined ? { init: { from: f.string(init['from'], 'init.from'), freshHeads: f.boolean(init['freshHeads'], 'init.freshHeads') } } : {}),
    ...optional('warmupSteps', o['warmupSteps'], (v, k) => f.int(v, k, 0)),
    ...optional('keepEpochs', o['keepEpochs'], (v, k) => f.boolean(v, k)),
    ...optional('skipBadImages', o['skipBadImages'], (v, k) => f.boolean(v, k)),
  };
}
