// The training loop (PAPER.md "Optimiser"): batches from the worker pipeline, loss summed over stacks, RMSprop,
// a learning-rate schedule, validation PCK with flip test after each epoch, `best` and `last` checkpoints written
// atomically, a JSONL log and a plot. A run resumes exactly where its last checkpoint stopped: weights, optimiser
// slots, schedule and data position (the data order and augmentation are functions of seed, epoch and position).
import { tf } from '../tf.js';
import type { Tensor, Tensor2D, Tensor4D } from '../tf.js';
import { DivergenceError, InvalidArgumentError } from '../errors.js';
import { HourglassModel } from '../model/model.js';
import { assignWeights, readCheckpoint, saveModel } from '../model/checkpoint.js';
import { readDataset } from '../data/readers/index.js';
import type { Dataset } from '../data/sample.js';
import { flipPermutation, type Skeleton } from '../data/skeletons/types.js';
import { createTrainSource, type PipelineOptions, type TrainSource } from '../data/batches.js';
import { predictDataset } from '../eval/evaluate.js';
import { scoreDataset, type DatasetScore } from '../eval/protocol.js';
import { heatmapLoss } from './loss.js';
import { yieldToEventLoop } from '../util/event-loop.js';
import { Rmsprop } from './rmsprop.js';
import { endEpoch, initialScheduleState, reschedule, warmupFactor, type ScheduleChange, type ScheduleState } from './schedule.js';
import { initialiseFrom } from '../model/init.js';
import { RunLog, epochPath, runPath, writeJson } from './run-files.js';
import { renderPlot } from './plot.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { TrainConfig } from './config.js';

/** Where a run stands; stored in each checkpoint's metadata. */
export interface RunPosition {
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
  imagesSeen: number;
  schedule: ScheduleState;
  bestMetric: number | null;
  bestEpoch: number | null;
  /** Seconds of training so far, over all sittings. */
  elapsed: number;
}

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
  ) {
    this.log = new RunLog(runPath(dir, 'log'));
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
    writeJson(runPath(dir, 'config'), config);
    const optimizer = new Rmsprop(model.params.trainable());
    const position: RunPosition = {
      epoch: 0, stepInEpoch: 0, globalStep: 0, imagesSeen: 0,
      schedule: initialScheduleState(config.schedule), bestMetric: null, bestEpoch: null, elapsed: 0,
    };
    const trainer = new Trainer(config, dir, model, optimizer, position, reporter);
    trainer.log.truncateAfter(-1);
    if (initSummary) trainer.log.append({ type: 'init', globalStep: 0, from: config.init?.from, summary: initSummary });
    return trainer;
  }

  /**
   * Continues the run in `dir` from its last checkpoint (config from config.json, optionally with changes);
   * `change` sets a new learning rate or schedule from the current step on (recorded in config.json and the log).
   */
  static resume(config: TrainConfig, dir: string, reporter: TrainReporter = {}, change?: ScheduleChange): Trainer {
    const ckpt = readCheckpoint(runPath(dir, 'last'));
    const position = ckpt.meta.position as RunPosition;
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
    const trainer = new Trainer({ ...config, model: ckpt.config }, dir, model, optimizer, position, reporter);
    trainer.log.truncateAfter(position.globalStep);
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
    const { config } = this;
    const train = await Promise.all(config.train.map((o) => readDataset(o)));
    const val = config.val ? await readDataset(config.val) : null;
    const skeleton = train[0].skeleton;
    this.skeleton = skeleton;
    for (const d of [...train, ...(val ? [val] : [])]) {
      if (d.skeleton.joints.length !== config.model.joints) {
        throw new InvalidArgumentError(`dataset ${d.name} has ${d.skeleton.joints.length} joints, the network ${config.model.joints}`);
      }
    }
    const flipPerm = flipPermutation(skeleton);
    const pipeline: PipelineOptions = {
      inputSize: config.model.inputSize, heatmapSize: config.model.inputSize / 4, sigma: config.sigma,
      joints: config.model.joints, flipPerm, workers: config.workers,
    };
    const source = createTrainSource({
      ...pipeline, datasets: train, batchSize: config.batchSize, seed: config.seed,
      startEpoch: this.position.epoch, startStep: this.position.stepInEpoch, augmentation: config.augment ? (config.augmentation ?? {}) : null,
    });
    const say = (line: string) => this.reporter.message?.(line);
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
    } finally {
      await source.close();
    }
  }

  private skeletonMeta(): { skeleton?: Skeleton } {
    return this.skeleton ? { skeleton: this.skeleton } : {};
  }

  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
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
    const h = s / 4;
    const k = config.model.joints;
    let intervalLoss = 0;
    let intervalSteps = 0;
    let intervalStart = performance.now();
    let lastSave = Date.now();
    while (position.stepInEpoch < source.stepsPerEpoch) {
      await yieldToEventLoop(); // so that Ctrl-C / SIGTERM are answered within a step
      if (this.stopReason || this.reachedMaxImages()) return false;
      const started = performance.now();
      const batch = await source.next();
      const b = batch.size;
      const lr = position.schedule.lr * warmupFactor(position.globalStep, config.warmupSteps);
      const loss = tf.tidy(() => {
        const x = tf.tensor4d(batch.inputs, [b, s, s, 3]) as Tensor4D;
        const y = tf.tensor4d(batch.targets, [b, h, h, k]) as Tensor4D;
        const w = tf.tensor2d(batch.weights, [b, k]) as Tensor2D;
        const { value, grads } = tf.variableGrads(() => heatmapLoss(this.model.forward(x, { training: true }), y, w), varList);
        const lossValue = value.dataSync()[0];
        if (!Number.isFinite(lossValue)) return lossValue;
        const byName = new Map<string, Tensor>(Object.entries(grads).map(([varName, g]) => [paramOf.get(varName) as string, g]));
        this.optimizer.apply(byName, lr);
        return lossValue;
      });
      if (!Number.isFinite(loss)) {
        throw new DivergenceError(
          `loss is ${loss} at epoch ${position.epoch + 1}, step ${position.stepInEpoch + 1} (global step ${position.globalStep + 1}); ` +
            `training stopped, the last good checkpoint is ${runPath(this.dir, 'last')}. Try a lower --lr.`,
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

  /** Validation, best/last checkpoints, schedule and plot at the end of an epoch. */
  private async finishEpoch(val: Dataset | null): Promise<DatasetScore | null> {
    const { position } = this;
    const finished = position.epoch;
    const score = val ? await this.validate(val) : null;
    const metric = score ? score.mean : null;
    position.schedule = endEpoch(this.config.schedule, position.schedule, finished, metric);
    position.epoch += 1;
    position.stepInEpoch = 0;
    const improved = this.noteValidation(score, finished + 1);
    // The epoch's snapshot before last.ckpt moves on: a run killed in between redoes the epoch and rewrites it.
    if (this.config.keepEpochs) await saveModel(epochPath(this.dir, finished + 1), this.model, { meta: this.snapshotMeta(score) });
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
    await saveModel(runPath(this.dir, 'best'), this.model, { meta: this.snapshotMeta(score) });
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
    await saveModel(runPath(this.dir, 'last'), this.model, { state: this.optimizer.state(), meta: { position: { ...this.position }, ...this.skeletonMeta() } });
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
