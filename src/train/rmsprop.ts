// RMSprop as the recipe of docs/method.md "Optimiser" and PyTorch define it:
// v = alpha*v + (1-alpha)*g^2; p -= lr * g / (sqrt(v) + eps), no momentum, no weight decay.
// Slots are named after their parameters so checkpoints can store and restore them.
import { tf } from '../tf.js';
import type { Tensor, Variable } from '../tf.js';
import { CheckpointMismatchError } from '../errors.js';
import type { StoredTensor } from '../model/checkpoint.js';
import { ops } from '../model/ops.js';
import { sameShape } from '../model/params.js';

export interface RmspropOptions {
  /** Smoothing constant (PyTorch's alpha). Default 0.99. */
  readonly alpha?: number;
  /** Added to sqrt(v). Default 1e-8. */
  readonly epsilon?: number;
}

const SLOT_PREFIX = 'rmsprop.v.';

export class Rmsprop {
  readonly alpha: number;
  readonly epsilon: number;
  private readonly slots = new Map<string, Variable>();

  constructor(private readonly params: ReadonlyMap<string, Variable>, options: RmspropOptions = {}) {
    this.alpha = options.alpha ?? 0.99;
    this.epsilon = options.epsilon ?? 1e-8;
    for (const [name, p] of params) this.slots.set(name, tf.variable(tf.zerosLike(p), false));
  }

  /** Applies one update; `grads` are keyed by parameter name (every parameter must have one). */
  apply(grads: ReadonlyMap<string, Tensor>, learningRate: number): void {
    const { alpha, epsilon } = this;
    const { rmspropUpdate } = ops();
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g = grads.get(name);
        if (!g) throw new Error(`rmsprop: no gradient for ${name}`);
        const v = this.slots.get(name) as Variable;
        const [nextP, nextV] = rmspropUpdate(p, v, g, learningRate, alpha, epsilon);
        v.assign(nextV);
        p.assign(nextP);
      }
    });
  }

  /** Slot tensors by checkpoint name. */
  state(): Map<string, Tensor> {
    return new Map([...this.slots].map(([name, v]) => [SLOT_PREFIX + name, v]));
  }

  /** Restores slots saved by state(); the set of names and shapes must match. */
  load(state: ReadonlyMap<string, StoredTensor>): void {
    for (const [name, v] of this.slots) {
      const stored = state.get(SLOT_PREFIX + name);
      if (!stored) throw new CheckpointMismatchError(`optimiser state for ${name} is missing`);
      if (!sameShape(stored.shape, v.shape)) {
        throw new CheckpointMismatchError(`optimiser state for ${name} has shape [${stored.shape.join(', ')}], expected [${v.shape.join(', ')}]`);
      }
      tf.tidy(() => v.assign(tf.tensor(stored.data, [...stored.shape])));
    }
  }

  dispose(): void {
    for (const v of this.slots.values()) v.dispose();
    this.slots.clear();
  }
}
