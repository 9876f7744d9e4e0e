// A network together with its parameters: what the trainer trains, checkpoints save and the estimator runs.
import { tf } from '../tf.js';
import type { Tensor4D } from '../tf.js';
import { InvalidArgumentError } from '../errors.js';
import { makeConfig, type HourglassConfig } from './config.js';
import { FoldedParams } from './fold.js';
import { StackedHourglass } from './network.js';
import type { ParamStore } from './params.js';

/**
 * A backend's own way to run predict()'s folded network (the native backend's: src/backend/native/infer.ts),
 * made once per model and backend, disposed with the model.
 */
export interface InferenceExecutor {
  /** The last stack's heatmaps of `images` (already checked), or null to leave this call to the TF.js path. */
  run(images: Tensor4D, folded: FoldedParams): Tensor4D | null;
  dispose(): void;
}

export type InferenceExecutorFactory = (network: StackedHourglass, params: ParamStore) => InferenceExecutor;

const inferenceExecutors = new Map<string, InferenceExecutorFactory>();

/** Lets a backend run predict() its own way; the TF.js path stays the fallback (and the reference). */
export function registerInferenceExecutor(backendName: string, factory: InferenceExecutorFactory): void {
  inferenceExecutors.set(backendName, factory);
}

export class HourglassModel {
  readonly network: StackedHourglass;
  /** predict()'s batch-norm-folded convolutions, rebuilt when a parameter changes (training, loading). */
  private folded: FoldedParams | null = null;
  /** The active backend's inference executor, if it registered one (made on first use). */
  private executor: { backend: string; executor: InferenceExecutor } | null = null;

  private constructor(readonly config: HourglassConfig, network: StackedHourglass, readonly params: ParamStore) {
    this.network = network;
  }

  /** A freshly initialised model (seeded). */
  static create(config: Partial<HourglassConfig> = {}, seed = 0): HourglassModel {
    const full = makeConfig(config);
    const network = new StackedHourglass(full);
    return new HourglassModel(full, network, network.createParams(seed));
  }

  /**
   * images: [N, S, S, 3] RGB in [0, 1] -> heatmaps of every stack, each [N, S/4, S/4, K] (last = final).
   * With training = true, batch norm uses batch statistics and updates its running averages.
   * Tensors returned belong to the caller (call inside tf.tidy or dispose them).
   */
  forward(images: Tensor4D, options: { training: boolean }): Tensor4D[] {
    this.checkInput(images);
    return this.network.apply({ params: this.params, training: options.training }, images);
  }

  /**
   * Inference: the last stack's heatmaps, [N, S/4, S/4, K]. Equals forward(images, { training: false }) up to
   * rounding (1e-5 relative), but runs batch norms folded into the convolutions (fold.ts); the folded copy of
   * the convolution weights is kept until a parameter changes or dispose(). A backend with an inference executor
   * (native) runs the folded network itself, with the same result up to rounding.
   */
  predict(images: Tensor4D): Tensor4D {
    this.checkInput(images);
    if (this.folded && !this.folded.isCurrent()) {
      this.folded.dispose();
      this.folded = null;
    }
    this.folded ??= FoldedParams.fold(this.network, this.params);
    const folded = this.folded;
    const fast = this.inferenceExecutor()?.run(images, folded);
    if (fast) return fast;
    return tf.tidy(() => {
      const outputs = this.network.apply({ params: this.params, training: false, folded }, images);
      return outputs[outputs.length - 1];
    });
  }

  private inferenceExecutor(): InferenceExecutor | null {
    const backend = tf.getBackend();
    if (this.executor?.backend !== backend) {
      this.executor?.executor.dispose();
      const factory = inferenceExecutors.get(backend);
      this.executor = factory ? { backend, executor: factory(this.network, this.params) } : null;
    }
    return this.executor?.executor ?? null;
  }

  private checkInput(images: Tensor4D): void {
    const [, h, w, c] = images.shape;
    const s = this.config.inputSize;
    if (h !== s || w !== s || c !== 3) {
      throw new InvalidArgumentError(`model input must be [N, ${s}, ${s}, 3], got [${images.shape.join(', ')}]`);
    }
  }

  parameterCount(): number {
    return this.network.parameterCount();
  }

  dispose(): void {
    this.executor?.executor.dispose();
    this.executor = null;
    this.folded?.dispose();
    this.folded = null;
    this.params.dispose();
  }
}
