// The training loop (docs/method.md "Optimiser"): batches from the worker pipeline, loss summed over stacks, RMSprop,
// a learning-rate schedule, validation PCK with flip test after each epoch, `best` and `last` checkpoints written
// atomically, a JSONL log and a plot. A run resumes exactly where its last checkpoint stopped: weights, optimiser
// slots, schedule and data position (the data order and augmentation are functions of seed, epoch and position).
import { tf } from '../tf.js';
import type { Tensor, Tensor2D, Tensor4D } from '../tf.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BadImagesError, CheckpointMismatchError, DivergenceError, FileFormatError, GpuDeviceError, InvalidArgumentError, NonFiniteError } from '../errors.js';
import { checkWebgpuDevice, webgpuFailure } from '../backend/webgpu/dawn.js';
import { HourglassModel } from '../model/model.js';
import { assignWeights, readCheckpoint, saveModel } from '../model/checkpoint.js';
import { readDataset } from '../data/readers/index.js';
import type { Dataset } from '../data/sample.js';
import { flipPermutation, type Skeleton } from '../data/skeletons/types.js';
import { createTrainSource, type PipelineOptions, type TrainBatch, type TrainSource } from '../data/batches.js';
import { predictDataset } from '../eval/evaluate.js';
import { scoreDataset, type DatasetScore } from '../eval/protocol.js';
import { heatmapLoss } from './loss.js';
import { yieldToEventLoop } from '../util/event-loop.js';
import { Rmsprop } from './rmsprop.js';
import { endEpoch, initialScheduleState, reschedule, warmupFactor, type ScheduleChange, type ScheduleState } from './schedule.js';
import { initialiseFrom } from '../model/init.js';
import { RunLog, epochPath, runPath, writeJson } from './run-files.js';
import { renderPlot } from './plot.js';
import { removeStaleTemps, writeFileAtomic } from '../util/atomic.js';
import { describeBadImages, findBadImages, withoutBadImages } from '../data/check-images.js';
import { acquireRunLock, type RunLock } from './run-lock.js';
import { heatmapSize, type HourglassConfig } from '../model/config.js';
import type { TrainConfig } from './config.js';
import { parseRunPosition, type RunPosition } from './position.js';

export type { RunPosition } from './position.js';

export interface StepInfo {
  readonly epoch: number;
  readonly epochs: number;
  readonly step: number;
  readonly stepsPerEpoch: number;
  readonly loss: number;
  readonly lr: number;
  readonly imagesPerSecond: number;
  readonly imagesSeen: number;
  readonly globalStep: number;
}

/** How the trainer talks to its user (the CLI draws progress bars; tests stay quiet). */
export interface TrainReporter {
  step?(info: StepInfo): void;
  message?(line: string): void;
}

export interface TrainResult {
  readonly position: RunPosition;
  /** 'done': all epochs or maxImages; 'stopped': requestStop() was honoured. */
  readonly status: 'done' | 'stopped';
  readonly lastValidation: DatasetScore | null;
}

const NETWORK_FIELDS = ['stacks', 'features', 'modules', 'joints', 'inputSize', 'depth'] as const;

/** How two network configs differ ('stacks 2 vs 1, ...'), or null when they describe the same network. */
function differentNetwork(a: HourglassConfig, b: HourglassConfig): string | null {
  const diffs = NETWORK_FIELDS.filter((f) => a[f] !== b[f]).map((f) => `${f} ${String(a[f])} in the config, ${String(b[f])} in the checkpoint`);
  return diffs.length ? diffs.join(', ') : null;
}

export class Trainer {
  private stopReason: string | null = null;
  /** The training data's skeleton, stored in every checkpoint so that predict/estimators can name the joints. */
  private skeleton: Skeleton | null = null;
  private readonly log: RunLog;

  private constructor(
    readonly config: TrainConfig,
    readonly dir: string,
    private readonly model: HourglassModel,
    private readonly optimizer: Rmsprop,
    private position: RunPosition,
    private readonly reporter: TrainReporter,
    private readonly lock: RunLock,
  ) {
    this.log = new RunLog(runPath(dir, 'log'));
  }

  /**
   * Takes the run folder's lock (one writer per run: a second process fails naming the holder) and removes the
   * temporary files of writes a killed process left. Everything else a run writes happens after this.
   */
  private static claim(dir: string, command: string, reporter: TrainReporter): RunLock {
    const lock = acquireRunLock(dir, command);
    if (lock.tookOver) reporter.message?.(`took over the lock of ${lock.tookOver}, which no longer runs`);
    const removed = [...removeStaleTemps(dir), ...removeStaleTemps(join(dir, 'epochs'))];
    if (removed.length) reporter.message?.(`removed ${removed.length} unfinished temporary file(s) of an interrupted write: ${removed.join(', ')}`);
    return lock;
  }

  /**
   * A new run in `dir` (its config.json is written first); with `config.init`, the network starts from that
   * checkpoint's weights (src/model/init.ts: copied, grown or re-headed), which is checked before anything is written.
   */
  static create(config: TrainConfig, dir: string, reporter: TrainReporter = {}): Trainer {
    const model = HourglassModel.create(config.model, config.seed);
    let initSummary: string | null = null;
    if (config.init) {
      try {
        const source = readCheckpoint(config.init.from);
        initSummary = initialiseFrom(model.params, model.config, source, config.init.from, { freshHeads: config.init.freshHeads }).summary;
      } catch (err) {
        model.dispose();
        throw err;
      }
      reporter.message?.(`initialised from ${config.init.from}: ${initSummary}`);
    }
    let lock: RunLock | null = null;
    try {
      lock = Trainer.claim(dir, 'train', reporter);
      if (existsSync(runPath(dir, 'last'))) {
        throw new InvalidArgumentError(`${dir} already holds a run (last.ckpt); continue it with --resume ${dir} or choose another --out`);
      }
    } catch (err) {
      lock?.release();
      model.dispose();
      throw err;
    }
    writeJson(runPath(dir, 'config'), config);
    const optimizer = new Rmsprop(model.params.trainable());
    const position: RunPosition = {
      epoch: 0, stepInEpoch: 0, globalStep: 0, imagesSeen: 0,
      schedule: initialScheduleState(config.schedule), bestMetric: null, bestEpoch: null, elapsed: 0,
    };
    const trainer = new Trainer(config, dir, model, optimizer, position, reporter, lock);
    trainer.log.truncateAfter(-1);
    if (initSummary) trainer.log.append({ type: 'init', globalStep: 0, from: config.init?.from, summary: initSummary });
    return trainer;
  }

  /**
   * Continues the run in `dir` from its last checkpoint (config from config.json, optionally with changes);
   * `change` sets a new learning rate or schedule from the current step on (recorded in config.json and the log).
   */
  static resume(config: TrainConfig, dir: string, reporter: TrainReporter = {}, change?: ScheduleChange): Trainer {
    const lock = Trainer.claim(dir, 'train --resume', reporter);
    try {
      return Trainer.resumeLocked(config, dir, reporter, lock, change);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  private static resumeLocked(config: TrainConfig, dir: string, reporter: TrainReporter, lock: RunLock, change?: ScheduleChange): Trainer {
    const lastPath = runPath(dir, 'last');
    if (!existsSync(lastPath)) {
      throw new FileFormatError(lastPath, 'not found: the run wrote no checkpoint yet (it stopped before its first one); start it again without --resume');
    }
    const ckpt = readCheckpoint(lastPath);
    const differs = differentNetwork(config.model, ckpt.config);
    if (differs) {
      throw new CheckpointMismatchError(`${lastPath} holds another network than ${runPath(dir, 'config')} describes (${differs}); refusing to resume`);
    }
    const position = parseRunPosition(ckpt.meta.position, lastPath);
    let changed: { spec: TrainConfig['schedule']; state: ScheduleState } | null = null;
    if (change) {
      changed = reschedule(config.schedule, position.schedule, position.epoch, change);
      position.schedule = changed.state;
      config = { ...config, schedule: changed.spec };
    }
    const model = HourglassModel.create(ckpt.config, config.seed);
    const optimizer = new Rmsprop(model.params.trainable());
    try {
      assignWeights(model.params, ckpt.weights, runPath(dir, 'last'));
      optimizer.load(ckpt.state);
    } catch (err) {
      optimizer.dispose();
      model.dispose();
      throw err;
    }
    writeJson(runPath(dir, 'config'), config);
    const trainer = new Trainer({ ...config, model: ckpt.config }, dir, model, optimizer, position, reporter, lock);
    trainer.log.truncateAfterCheckpoint(position.globalStep);
    if (changed) {
      trainer.log.append({ type: 'schedule', globalStep: position.globalStep, epoch: position.epoch + 1, step: position.stepInEpoch, schedule: changed.spec, lr: changed.state.lr });
    }
    return trainer;
  }

  /** Asks the loop to save a checkpoint and return after the current step (signal handlers call this). */
  requestStop(reason: string): void {
    this.stopReason = reason;
  }

  get currentPosition(): RunPosition {
    return { ...this.position };
  }

  async run(): Promise<TrainResult> {
    const { config, position } = this;
    const say = (line: string) => this.reporter.message?.(line);
    const read = await Promise.all(config.train.map((o) => readDataset(o)));
    const readVal = config.val ? await readDataset(config.val) : null;
    const skeleton = read[0].skeleton;
    this.skeleton = skeleton;
    for (const d of [...read, ...(readVal ? [readVal] : [])]) {
      if (d.skeleton.joints.length !== config.model.joints) {
        throw new InvalidArgumentError(`dataset ${d.name} has ${d.skeleton.joints.length} joints, the network ${config.model.joints}`);
      }
    }
    const { train, val } = await this.checkImages(read, readVal);
    const samples = train.reduce((n, d) => n + d.samples.length, 0);
    const stepsPerEpoch = Math.floor(samples / config.batchSize);
    if (position.stepInEpoch > stepsPerEpoch && stepsPerEpoch > 0) {
      say(`the data now make ${stepsPerEpoch} steps per epoch (images left out): epoch ${position.epoch + 1} ends here`);
      position.stepInEpoch = stepsPerEpoch;
    }
    const flipPerm = flipPermutation(skeleton);
    const pipeline: PipelineOptions = {
      inputSize: config.model.inputSize, heatmapSize: heatmapSize(config.model), sigma: config.sigma,
      joints: config.model.joints, flipPerm, workers: config.workers,
    };
    const source = createTrainSource({
      ...pipeline, datasets: train, batchSize: config.batchSize, seed: config.seed,
      startEpoch: position.epoch, startStep: position.stepInEpoch, augmentation: config.augment ? (config.augmentation ?? {}) : null,
    });
    say(`training on ${train.map((d) => `${d.name} (${d.samples.length})`).join(' + ')}; ${source.stepsPerEpoch} steps of ${config.batchSize} per epoch` +
      (val ? `; validating on ${val.name} (${val.samples.length})` : ''));
    let lastValidation: DatasetScore | null = null;
    try {
      while (this.position.epoch < config.epochs && !this.reachedMaxImages()) {
        const epochEnded = await this.trainEpoch(source);
        if (this.stopReason) {
          await this.saveLast();
          say(`stopped (${this.stopReason}) at epoch ${this.position.epoch + 1}, step ${this.position.stepInEpoch}; checkpoint ${runPath(this.dir, 'last')}`);
          return { position: this.currentPosition, status: 'stopped', lastValidation };
        }
        if (epochEnded) lastValidation = await this.finishEpoch(val);
      }
      if (this.position.stepInEpoch > 0) {
        // Stopped mid-epoch by maxImages: validate what we have, save where we are, keep it if it is the best.
        lastValidation = val ? await this.validate(val) : null;
        const improved = this.noteValidation(lastValidation, this.position.epoch + 1);
        await this.saveLast();
        if (improved) await this.saveBest(lastValidation);
        this.writePlot(lastValidation?.protocol ?? 'PCK');
      }
      return { position: this.currentPosition, status: 'done', lastValidation };
    } catch (err) {
      throw await this.deviceFailure(err);
    } finally {
      await source.close();
    }
  }

  /**
   * An error met while training on a GPU whose device failed (lost, out of memory) becomes the device's GpuDeviceError,
   * saying where the run stopped and how to continue on another backend; any other error is returned as it is.
   */
  private async deviceFailure(err: unknown): Promise<unknown> {
    const failure = await webgpuFailure(err);
    if (!failure) return err;
    const { position } = this;
    const path = runPath(this.dir, 'last');
    const resume = existsSync(path)
      ? `the last checkpoint ${path} is intact (continue on another backend: hourglass train --resume ${this.dir} --backend native)`
      : 'no checkpoint was written yet (start again, on another backend: --backend native)';
    return new GpuDeviceError(`${failure.message}; training stopped at epoch ${position.epoch + 1}, step ${position.stepInEpoch + 1}; ${resume}`);
  }

  /**
   * Checks every image of the run before the first step (headers and file ends, in parallel): bad ones stop the run
   * listed together, or with `skipBadImages` are left out (counted, named in the log).
   */
  private async checkImages(train: Dataset[], val: Dataset | null): Promise<{ train: Dataset[]; val: Dataset | null }> {
    const started = performance.now();
    const all = val ? [...train, val] : train;
    const bad = await findBadImages(all);
    const files = new Set(all.flatMap((d) => d.samples.map((s) => s.imagePath))).size;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (bad.length === 0) {
      this.reporter.message?.(`checked ${files} images in ${seconds} s: all readable`);
      return { train, val };
    }
    if (!this.config.skipBadImages) {
      throw new BadImagesError(`${bad.length} of ${files} images cannot be read: ${describeBadImages(bad)}. ` +
        'Replace or remove them, or add --skip-bad-images to train without them', bad.map((b) => b.path));
    }
    this.reporter.message?.(`leaving out ${bad.length} of ${files} images that cannot be read (--skip-bad-images): ${describeBadImages(bad, 3)}`);
    this.log.append({ type: 'bad-images', globalStep: this.position.globalStep, count: bad.length, images: bad.map((b) => `${b.path}: ${b.reason}`) });
    const [kept, keptVal] = [withoutBadImages(train, bad), val ? withoutBadImages([val], bad)[0] : null];
    return { train: kept, val: keptVal };
  }

  private skeletonMeta(): { skeleton?: Skeleton } {
    return this.skeleton ? { skeleton: this.skeleton } : {};
  }

  /** Frees the tensors and releases the run folder's lock. */
  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
    this.lock.release();
  }

  private reachedMaxImages(): boolean {
    return this.config.maxImages !== null && this.position.imagesSeen >= this.config.maxImages;
  }

  /** Trains until the epoch ends (true) or a stop is requested / maxImages is reached (false). */
  private async trainEpoch(source: TrainSource): Promise<boolean> {
    const { config, position } = this;
    const trainable = this.model.params.trainable();
    const varList = [...trainable.values()];
    const paramOf = new Map([...trainable].map(([name, v]) => [v.name, name]));
    const s = config.model.inputSize;
    const h = heatmapSize(config.model);
    const k = config.model.joints;
    let intervalLoss = 0;
    let intervalSteps = 0;
    let intervalStart = performance.now();
    let lastSave = Date.now();
    while (position.stepInEpoch < source.stepsPerEpoch) {
      await yieldToEventLoop(); // so that Ctrl-C / SIGTERM are answered within a step
      if (this.stopReason || this.reachedMaxImages()) return false;
      const started = performance.now();
      let batch: TrainBatch;
      try {
        batch = await source.next();
      } catch (err) {
        if (!(err instanceof FileFormatError)) throw err;
        await this.badImageMidRun(err);
        continue;
      }
      const b = batch.size;
      const lr = position.schedule.lr * warmupFactor(position.globalStep, config.warmupSteps);
      const { value, grads } = tf.tidy(() => {
        const x = tf.tensor4d(batch.inputs, [b, s, s, 3]) as Tensor4D;
        const y = tf.tensor4d(batch.targets, [b, h, h, k]) as Tensor4D;
        const w = tf.tensor2d(batch.weights, [b, k]) as Tensor2D;
        return tf.variableGrads(() => heatmapLoss(this.model.forward(x, { training: true }), y, w), varList);
      });
      let loss: number;
      try {
        // Read asynchronously: a GPU backend (webgpu) cannot read synchronously in Node.
        loss = (await value.data())[0];
        if (Number.isFinite(loss)) {
          const byName = new Map<string, Tensor>(Object.entries(grads).map(([varName, g]) => [paramOf.get(varName) as string, g]));
          this.optimizer.apply(byName, lr);
        }
      } finally {
        tf.dispose([value, ...Object.values(grads)]);
      }
      checkWebgpuDevice(); // a lost or failed GPU device stops the run here, before anything it computed is saved
      const badParam = Number.isFinite(loss) ? await this.nonFiniteParameter() : null;
      if (!Number.isFinite(loss) || badParam !== null) {
        throw new DivergenceError(
          `${badParam === null ? `loss is ${loss}` : `weights of ${badParam} became NaN or infinite`} at epoch ${position.epoch + 1}, ` +
            `step ${position.stepInEpoch + 1} (global step ${position.globalStep + 1}); training stopped, ${this.lastGood()}. Try a lower --lr.`,
        );
      }
      position.elapsed += (performance.now() - started) / 1000;
      position.stepInEpoch += 1;
      position.globalStep += 1;
      position.imagesSeen += b;
      intervalLoss += loss;
      intervalSteps += 1;
      const now = performance.now();
      const imagesPerSecond = (intervalSteps * config.batchSize * 1000) / Math.max(1, now - intervalStart);
      this.reporter.step?.({
        epoch: position.epoch, epochs: config.epochs, step: position.stepInEpoch, stepsPerEpoch: source.stepsPerEpoch,
        loss, lr, imagesPerSecond, imagesSeen: position.imagesSeen, globalStep: position.globalStep,
      });
      if (intervalSteps >= config.logEvery) {
        this.log.append({
          type: 'train', globalStep: position.globalStep, epoch: position.epoch + 1, step: position.stepInEpoch,
          images: position.imagesSeen, loss: intervalLoss / intervalSteps, lr,
          imagesPerSecond: Number(imagesPerSecond.toFixed(2)),
        });
        intervalLoss = 0;
        intervalSteps = 0;
        intervalStart = now;
      }
      if (Date.now() - lastSave > config.checkpointMinutes * 60_000) {
        await this.saveLast();
        lastSave = Date.now();
      }
    }
    return true;
  }

  /** Name of the first parameter (weights or batch-norm statistics) holding a NaN or infinity, or null. */
  private async nonFiniteParameter(): Promise<string | null> {
    const params = this.model.params.all();
    const read = async (t: Tensor): Promise<number> => {
      try {
        return (await t.data())[0];
      } finally {
        t.dispose();
      }
    };
    // x * 0 is 0 for every finite x and NaN for NaN and infinities: one sum per tensor, one number read back.
    const total = await read(tf.tidy(() => tf.addN([...params.values()].map((p) => tf.sum(tf.mul(p, 0))))));
    if (Number.isFinite(total)) return null;
    for (const [name, p] of params) {
      if (!Number.isFinite(await read(tf.tidy(() => tf.sum(tf.mul(p, 0)))))) return name;
    }
    return 'a parameter';
  }

  /** Where a stopped run can be continued from, for messages. */
  private lastGood(): string {
    const path = runPath(this.dir, 'last');
    return existsSync(path)
      ? `the last good checkpoint is ${path} (continue with: hourglass train --resume ${this.dir})`
      : 'no checkpoint was written yet (nothing to resume)';
  }

  /**
   * A batch failed because an image could not be read, hours into a run: skip the batch and log it under
   * `skipBadImages`; otherwise save where the run is and stop, naming the file and how to go on.
   */
  private async badImageMidRun(err: FileFormatError): Promise<void> {
    const { position } = this;
    const where = `epoch ${position.epoch + 1}, step ${position.stepInEpoch + 1}`;
    if (this.config.skipBadImages) {
      this.reporter.message?.(`skipped ${where}: ${err.message}`);
      this.log.append({ type: 'bad-image', globalStep: position.globalStep, epoch: position.epoch + 1, step: position.stepInEpoch + 1, error: err.message });
      position.stepInEpoch += 1; // the source has moved past this batch
      position.globalStep += 1;
      return;
    }
    await this.saveLast();
    throw new FileFormatError(err.file, `${err.message.slice(err.file.length + 2)}; training stopped at ${where} and saved in ` +
      `${runPath(this.dir, 'last')}: replace the file, or continue without it: hourglass train --resume ${this.dir} --skip-bad-images`);
  }

  /** Validation, best/last checkpoints, schedule and plot at the end of an epoch. */
  private async finishEpoch(val: Dataset | null): Promise<DatasetScore | null> {
    const { position } = this;
    const finished = position.epoch;
    // The epoch's training is saved before validation: a run killed while validating redoes only the validation.
    await this.saveLast();
    const score = val ? await this.validate(val) : null;
    const metric = score ? score.mean : null;
    position.schedule = endEpoch(this.config.schedule, position.schedule, finished, metric);
    position.epoch += 1;
    position.stepInEpoch = 0;
    const improved = this.noteValidation(score, finished + 1);
    // The epoch's snapshot before last.ckpt moves on: a run killed in between redoes the epoch and rewrites it.
    if (this.config.keepEpochs) await this.guardFinite(() => saveModel(epochPath(this.dir, finished + 1), this.model, { meta: this.snapshotMeta(score) }));
    await this.saveLast();
    if (improved) await this.saveBest(score);
    this.writePlot(score?.protocol ?? 'PCK');
    return score;
  }

  /** Records a validation result; true when it is the best so far. */
  private noteValidation(score: DatasetScore | null, epoch: number): boolean {
    const { position } = this;
    if (!score || !Number.isFinite(score.mean) || (position.bestMetric !== null && score.mean <= position.bestMetric)) return false;
    position.bestMetric = score.mean;
    position.bestEpoch = epoch;
    return true;
  }

  private async saveBest(score: DatasetScore | null): Promise<void> {
    await this.guardFinite(() => saveModel(runPath(this.dir, 'best'), this.model, { meta: this.snapshotMeta(score) }));
  }

  /** A checkpoint write that meets a non-finite value writes nothing and stops the run as diverged. */
  private async guardFinite(write: () => Promise<void>): Promise<void> {
    checkWebgpuDevice(); // nothing is written from a device that failed: its values cannot be trusted
    try {
      await write();
    } catch (err) {
      if (!(err instanceof NonFiniteError)) throw err;
      throw new DivergenceError(`${err.message} at epoch ${this.position.epoch + 1}, step ${this.position.stepInEpoch}; training stopped, ${this.lastGood()}. Try a lower --lr.`);
    }
  }

  private snapshotMeta(score: DatasetScore | null): Record<string, unknown> {
    return { position: { ...this.position }, validation: score, ...this.skeletonMeta() };
  }

  private async validate(val: Dataset): Promise<DatasetScore> {
    const predictions = await predictDataset(this.model, val, {
      flipTest: this.config.flipTest, batchSize: this.config.batchSize, workers: this.config.workers,
    });
    const score = scoreDataset(val, predictions);
    this.log.append({
      type: 'val', globalStep: this.position.globalStep, epoch: this.position.epoch + 1, images: this.position.imagesSeen,
      protocol: score.protocol, mean: score.mean, count: score.count,
      perGroup: Object.fromEntries(score.perGroup.map((g) => [g.name, g.pck])),
    });
    this.reporter.message?.(`epoch ${this.position.epoch + 1}: validation ${score.protocol} ${score.mean.toFixed(2)}% over ${score.count} joints ` +
      `(${score.perGroup.map((g) => `${g.name} ${g.pck.toFixed(1)}`).join(', ')})`);
    return score;
  }

  private async saveLast(): Promise<void> {
    await this.guardFinite(() =>
      saveModel(runPath(this.dir, 'last'), this.model, { state: this.optimizer.state(), meta: { position: { ...this.position }, ...this.skeletonMeta() } }));
    this.log.append({ type: 'checkpoint', globalStep: this.position.globalStep, epoch: this.position.epoch, step: this.position.stepInEpoch });
  }

  private writePlot(metricName: string): void {
    const entries = this.log.entries();
    const loss = entries.filter((e) => e.type === 'train').map((e) => [Number(e.images), Number(e.loss)] as const);
    const metric = entries.filter((e) => e.type === 'val').map((e) => [Number(e.epoch), Number(e.mean)] as const);
    const m = this.config.model;
    const title = `${m.stacks} stack(s), ${m.features} features, ${m.inputSize}px, batch ${this.config.batchSize}`;
    writeFileAtomic(runPath(this.dir, 'plot'), renderPlot({ loss, metric, metricName, title }));
  }
}
