// `hourglass train`: trains a stacked hourglass on one or more datasets, or continues a run with --resume.
// Ctrl-C / SIGTERM save a checkpoint and exit; the run folder holds everything needed to continue.
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from '../args.js';
import type { Command } from '../command.js';
import { InvalidArgumentError } from '../../errors.js';
import { makeConfig } from '../../model/config.js';
import { useBackend, parseBackendName } from '../../backend/select.js';
import { BF16_TRIAL_STEPS, bf16LayersMessage, parsePrecision, usePrecision, type Precision } from '../../backend/precision.js';
import { Trainer, type TrainReporter } from '../../train/trainer.js';
import { parseTrainConfig, TRAIN_DEFAULTS, type TrainConfig } from '../../train/config.js';
import { readJson, runPath } from '../../train/run-files.js';
import { readDataset } from '../../data/readers/index.js';
import { readCheckpoint } from '../../model/checkpoint.js';
import { bundledNames, existingModelPath } from '../../api/models.js';
import { parseSkeleton } from '../../data/skeletons/index.js';
import { plateauFloor, type ScheduleChange, type ScheduleSpec } from '../../train/schedule.js';
import { CLI_DATASETS, datasetOptions, parseSourceSpec, validationOptions } from '../datasets.js';
import { Progress } from '../progress.js';
import { augmentOptions, type AugmentOptions } from '../../data/augment.js';
import { defaultWorkers } from '../../data/batches.js';

/** What may change when a run is resumed; the help of --resume and its error message are made from these. */
const RESUMABLE = ['epochs', 'max-images', 'workers', 'backend', 'precision', 'keep-epochs', 'skip-bad-images'] as const;
const RESCHEDULE = ['lr', 'lr-drop', 'lr-factor', 'plateau'] as const;
const RESUME_FLAGS = new Set<string>(['resume', ...RESUMABLE, ...RESCHEDULE]);
const flagList = (names: readonly string[]): string => names.map((n) => `--${n}`).join(', ');
const RESUME_RULE = `only ${flagList(RESUMABLE)} and the schedule (${flagList(RESCHEDULE)})`;

const FLAGS = {
  dataset: { type: 'string', choices: CLI_DATASETS, help: 'training data format' },
  root: { type: 'string', help: 'dataset folder (lsp, lspet, flic, mpii) or annotation file (coco, custom)' },
  images: { type: 'string', help: 'records to train on, 1-based ranges, e.g. 1-6000 (default all)' },
  split: { type: 'string', help: 'flic/mpii: training .h5 split (default train)' },
  extra: { type: 'string', repeat: true, help: 'another training source FORMAT:PATH[:RANGE] (repeatable)' },
  'val-images': { type: 'string', help: 'records of the same dataset to validate on, e.g. 6001-7000' },
  'val-split': { type: 'string', help: 'flic/mpii: validation split (default valid)' },
  'no-val': { type: 'boolean', help: 'do not validate' },
  init: { type: 'string', help: `start from a checkpoint's weights (a path, or a bundled network: ${bundledNames(true)}); network flags default to its, and more --stacks / --modules grow it (new parts start as identities)` },
  warmup: { type: 'int', min: 0, help: 'raise the learning rate linearly over the first N steps (advised with --init: the optimiser starts without statistics)' },
  stacks: { type: 'int', min: 1, help: 'stacked hourglasses (default 2)' },
  features: { type: 'int', min: 2, help: 'feature channels (default 256)' },
  modules: { type: 'int', min: 1, help: 'residual modules per step (default 1)' },
  depth: { type: 'int', min: 1, help: 'poolings in each hourglass (default 4; with --init, more than the source\'s adds outer levels)' },
  input: { type: 'int', min: 64, help: 'input side in pixels, a multiple of 64 (default 256)' },
  batch: { type: 'int', min: 1, help: `batch size (default ${TRAIN_DEFAULTS.batchSize})` },
  epochs: { type: 'int', min: 1, help: `epochs (default ${TRAIN_DEFAULTS.epochs})` },
  lr: { type: 'number', min: 0, help: `RMSprop learning rate (default ${TRAIN_DEFAULTS.lr})` },
  'lr-drop': { type: 'string', help: 'epochs (1-based) after which the rate is multiplied by --lr-factor, e.g. 30,38' },
  'lr-factor': { type: 'number', min: 0, help: `learning-rate drop factor (default ${TRAIN_DEFAULTS.lrFactor})` },
  plateau: { type: 'int', min: 1, help: 'instead of --lr-drop: drop when validation has not improved for N epochs' },
  sigma: { type: 'number', min: 0, help: `target Gaussian sigma in heatmap pixels (default ${TRAIN_DEFAULTS.sigma})` },
  seed: { type: 'int', min: 0, help: `random seed (default ${TRAIN_DEFAULTS.seed})` },
  'no-augment': { type: 'boolean', help: 'turn augmentation off' },
  augment: { type: 'string', help: 'change the paper augmentation: key=value,... (scaleSigma, scaleClamp, rotationSigma, rotationClamp, rotationProbability, flipProbability, colourMin, colourMax, translateSigma, translateClamp)' },
  'no-flip-test': { type: 'boolean', help: 'validate without the flip test' },
  workers: { type: 'int', min: 1, help: 'data worker threads (default cores - 1, at least 1)' },
  'log-every': { type: 'int', min: 1, help: `log a line every N steps (default ${TRAIN_DEFAULTS.logEvery})` },
  'checkpoint-minutes': { type: 'number', min: 0, help: `save last.ckpt at least this often (default ${TRAIN_DEFAULTS.checkpointMinutes})` },
  'max-images': { type: 'int', min: 1, help: 'stop after this many training images' },
  'keep-epochs': { type: 'boolean', help: 'keep a weights-only snapshot of every epoch in <run>/epochs/ (to average with export --average)' },
  'skip-bad-images': { type: 'boolean', help: 'train without the images that cannot be read (listed and counted) instead of stopping' },
  out: { type: 'string', help: 'run folder (default runs/<dataset>-<date>)' },
  resume: { type: 'string', help: `continue the run in this folder (${RESUME_RULE} may change)` },
  backend: { type: 'string', help: 'auto (default), native, wasm, cpu, tensorflow, webgpu (a GPU through Dawn: npm install webgpu)' },
  precision: { type: 'string', help: 'fp32 (default; on --resume the run\'s own), bf16 (native: bf16 convolutions, fp32 weights and accumulation), or auto (bf16 where the CPU has bf16 instructions)' },
} as const;

type Flags = ReturnType<typeof parseArgs<typeof FLAGS>>['flags'];

function dropEpochs(spec: string): number[] {
  return spec.split(',').filter((x) => x.trim() !== '').map((x) => {
    const e = Number(x);
    if (!Number.isInteger(e) || e < 1) throw new InvalidArgumentError(`--lr-drop: '${x}' is not an epoch number >= 1`);
    return e;
  });
}

/** Schedule flags given with --resume: a change from the current step on, or undefined when none was given. */
function scheduleChange(flags: Flags): ScheduleChange | undefined {
  const change: ScheduleChange = {
    ...(flags.lr !== undefined ? { lr: flags.lr } : {}),
    ...(flags['lr-drop'] !== undefined ? { dropEpochs: dropEpochs(flags['lr-drop']) } : {}),
    ...(flags['lr-factor'] !== undefined ? { factor: flags['lr-factor'] } : {}),
    ...(flags.plateau !== undefined ? { plateau: flags.plateau } : {}),
  };
  return Object.keys(change).length ? change : undefined;
}

function schedule(flags: Flags): ScheduleSpec {
  const base = flags.lr ?? TRAIN_DEFAULTS.lr;
  const factor = flags['lr-factor'] ?? TRAIN_DEFAULTS.lrFactor;
  if (flags.plateau !== undefined) {
    if (flags['lr-drop']) throw new InvalidArgumentError('give either --lr-drop or --plateau, not both');
    return { kind: 'plateau', base, patience: flags.plateau, factor, minLr: plateauFloor(base) };
  }
  return { kind: 'steps', base, dropEpochs: dropEpochs(flags['lr-drop'] ?? ''), factor };
}

function describeSchedule(s: ScheduleSpec): string {
  const lr = s.base.toExponential(2);
  if (s.kind === 'plateau') return `lr ${lr}, x${s.factor} after ${s.patience} epochs without improvement`;
  return s.dropEpochs.length ? `lr ${lr}, x${s.factor} after epoch(s) ${s.dropEpochs.join(', ')}` : `lr ${lr}, constant`;
}

/** `--augment scaleClamp=0.32,colourMin=0.8`: overrides of DEFAULT_AUGMENTATION, validated by augmentOptions. */
export function parseAugmentation(spec: string, off: boolean): Partial<AugmentOptions> {
  if (off) throw new InvalidArgumentError('give either --augment or --no-augment, not both');
  const out: Record<string, number> = {};
  for (const part of spec.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = /^([A-Za-z]+)=(.+)$/.exec(part);
    const value = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(value)) throw new InvalidArgumentError(`--augment: '${part}' is not key=number`);
    out[m[1]] = value;
  }
  augmentOptions(out as Partial<AugmentOptions>); // unknown keys and bad values fail here, before any work
  return out as Partial<AugmentOptions>;
}

/**
 * A path as config.json records it: relative to the working directory when it lies inside it (as the data roots are
 * given), so that a run's record names the same file on another machine; absolute otherwise.
 */
export function recordedPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? resolve(path) : rel;
}

async function newConfig(flags: Flags, backend: string, precision: Precision, initPath?: string): Promise<{ config: TrainConfig; out: string }> {
  if (!flags.dataset || !flags.root) throw new InvalidArgumentError('train needs --dataset and --root (or --resume DIR)');
  const first = datasetOptions(flags.dataset, flags.root, flags.images, flags.split);
  const train = [first, ...(flags.extra ?? []).map(parseSourceSpec)];
  const val = flags['no-val'] ? null : validationOptions(first, flags['val-images'], flags['val-split']);
  // Read the first source once here to learn its joints (and fail early on bad data).
  const skeleton = (await readDataset(first)).skeleton;
  const joints = skeleton.joints.length;
  // --init: the network's size defaults to the source's; its heads start over if its joints are not these.
  const initFrom = initPath !== undefined ? resolve(initPath) : undefined;
  const source = initFrom !== undefined ? readCheckpoint(initFrom) : null;
  const sourceSkeleton = source ? parseSkeleton(source.meta.skeleton) : null;
  const base = source?.config;
  const config: TrainConfig = {
    model: makeConfig({
      stacks: flags.stacks ?? base?.stacks, features: flags.features ?? base?.features, modules: flags.modules ?? base?.modules,
      joints, inputSize: flags.input ?? base?.inputSize, depth: flags.depth ?? base?.depth,
    }),
    train, val,
    batchSize: flags.batch ?? TRAIN_DEFAULTS.batchSize,
    epochs: flags.epochs ?? TRAIN_DEFAULTS.epochs,
    schedule: schedule(flags),
    sigma: flags.sigma ?? TRAIN_DEFAULTS.sigma,
    seed: flags.seed ?? TRAIN_DEFAULTS.seed,
    augment: !flags['no-augment'],
    ...(flags.augment !== undefined ? { augmentation: parseAugmentation(flags.augment, Boolean(flags['no-augment'])) } : {}),
    flipTest: !flags['no-flip-test'],
    workers: flags.workers ?? defaultWorkers(),
    logEvery: flags['log-every'] ?? TRAIN_DEFAULTS.logEvery,
    checkpointMinutes: flags['checkpoint-minutes'] ?? TRAIN_DEFAULTS.checkpointMinutes,
    maxImages: flags['max-images'] ?? null,
    backend,
    precision,
    ...(initFrom !== undefined ? { init: { from: recordedPath(initFrom), freshHeads: Boolean(sourceSkeleton && sourceSkeleton.joints.join() !== skeleton.joints.join()) } } : {}),
    ...(flags.warmup ? { warmupSteps: flags.warmup } : {}),
    ...(flags['keep-epochs'] ? { keepEpochs: true } : {}),
    ...(flags['skip-bad-images'] ? { skipBadImages: true } : {}),
  };
  const out = flags.out ?? join('runs', `${flags.dataset}-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}`);
  return { config, out };
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'train a stacked hourglass (or continue a run with --resume)',
  usage: 'train --dataset lsp|lspet|flic|mpii|coco|custom --root PATH [--images A-B] [--val-images C-D] [--init CKPT] [options] | train --resume DIR',
  flags: FLAGS,
  async run(argv, io) {
    const { flags, positionals } = parseArgs(argv, FLAGS);
    if (positionals.length) throw new InvalidArgumentError(`train takes no arguments, got '${positionals.join(' ')}'`);
    if (flags.resume) {
      const extra = Object.keys(flags).filter((f) => !RESUME_FLAGS.has(f));
      if (extra.length) {
        throw new InvalidArgumentError(`with --resume ${RESUME_RULE} may be given (got --${extra.join(', --')})`);
      }
    }
    const change = flags.resume ? scheduleChange(flags) : undefined; // flags checked before any file is read
    const initPath = flags.init !== undefined ? existingModelPath(flags.init) : undefined; // a wrong --init fails before the backend starts
    const precisionFlag = flags.precision !== undefined ? parsePrecision(flags.precision) : undefined;
    const choice = await useBackend(parseBackendName(flags.backend ?? 'auto'));
    io.err(choice.message);
    const configPath = flags.resume ? runPath(flags.resume, 'config') : null;
    const saved = configPath ? parseTrainConfig(readJson(configPath, 'run config'), configPath) : null;
    const precision = await usePrecision(precisionFlag ?? saved?.precision ?? 'fp32', choice.name);
    io.err(precision.message);
    const progress = new Progress((t) => process.stderr.write(t), Boolean(process.stderr.isTTY));
    // Under bf16 each convolution pass is timed in both precisions on its first calls: say what was kept, once.
    let layersReported = precision.precision !== 'bf16';
    let stepsSeen = 0;
    const reporter: TrainReporter = {
      step: (s) => {
        if (!layersReported && ++stepsSeen > BF16_TRIAL_STEPS) {
          layersReported = true;
          void bf16LayersMessage(precision.precision, choice.name).then((line) => line && progress.line(line));
        }
        progress.update({
          label: `epoch ${s.epoch + 1}/${s.epochs}`, done: s.step, total: s.stepsPerEpoch, rate: s.imagesPerSecond,
          itemsPerUnit: s.imagesSeen / Math.max(1, s.globalStep),
          detail: `loss ${s.loss.toExponential(3)} lr ${s.lr.toExponential(2)} ${s.imagesPerSecond.toFixed(1)} img/s`,
        });
      },
      message: (line) => progress.line(line),
    };
    let trainer: Trainer;
    let dir: string;
    if (flags.resume && saved) {
      dir = flags.resume;
      const base = saved;
      const config: TrainConfig = {
        ...base,
        precision: precision.precision,
        epochs: flags.epochs ?? base.epochs,
        maxImages: flags['max-images'] ?? base.maxImages,
        workers: flags.workers ?? base.workers,
        ...(flags['keep-epochs'] !== undefined ? { keepEpochs: flags['keep-epochs'] } : {}),
        ...(flags['skip-bad-images'] !== undefined ? { skipBadImages: flags['skip-bad-images'] } : {}),
      };
      trainer = Trainer.resume(config, dir, reporter, change);
      const p = trainer.currentPosition;
      io.err(`resuming ${dir} at epoch ${p.epoch + 1}, step ${p.stepInEpoch} (${p.imagesSeen} images seen)`);
      if (change) io.err(`new schedule from here: ${describeSchedule(trainer.config.schedule)}`);
    } else {
      const { config, out } = await newConfig(flags, choice.name, precision.precision, initPath);
      dir = out;
      trainer = Trainer.create(config, dir, reporter);
      io.err(`run folder: ${dir}`);
    }
    const onSignal = (signal: NodeJS.Signals) => {
      progress.line(`${signal}: saving a checkpoint after this step...`);
      trainer.requestStop(signal);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const result = await trainer.run();
      progress.end();
      const p = result.position;
      io.err(`${result.status === 'done' ? 'finished' : 'stopped'}: ${p.imagesSeen} images in ${Math.round(p.elapsed)} s; ` +
        `best ${p.bestMetric === null ? 'n/a' : `${p.bestMetric.toFixed(2)}% (epoch ${p.bestEpoch})`}; checkpoints in ${dir}` +
        (result.status === 'stopped' ? `; continue with: hourglass train --resume ${dir}` : ''));
      return result.status === 'stopped' ? 130 : 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      trainer.dispose();
    }
  },
};
