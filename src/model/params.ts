// Named parameter storage: every weight of the network is a tf.Variable under a stable dotted name
// (e.g. 'stack0.hg.l4.up.0.conv2.weight'), the names checkpoints use. Initialisation is seeded.
import { tf } from '../tf.js';
import type { Tensor, Tensor1D, Tensor4D, Variable } from '../tf.js';
import { HourglassError } from '../errors.js';

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /** 'uniform': U(-1/sqrt(fanIn), 1/sqrt(fanIn)), PyTorch's default for conv weights and biases. */
  readonly init: 'uniform' | 'zeros' | 'ones';
  readonly fanIn?: number;
  /** false for batch-norm running statistics: saved and loaded, never given gradients. */
  readonly trainable: boolean;
}

/** Whether two tensor shapes are equal (same rank, same sides). */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function specSize(spec: ParamSpec): number {
  return spec.shape.reduce((a, b) => a * b, 1);
}

export class ParamStore {
  private readonly vars = new Map<string, Variable>();

  constructor(readonly specs: readonly ParamSpec[], seed = 0) {
    const seen = new Set<string>();
    specs.forEach((spec, i) => {
      if (seen.has(spec.name)) throw new HourglassError(`duplicate parameter name ${spec.name}`);
      seen.add(spec.name);
      const value = tf.tidy(() => initialValue(spec, seed + i));
      this.vars.set(spec.name, tf.variable(value, spec.trainable, `hg/${spec.name}/${uniqueSuffix()}`));
      value.dispose();
    });
  }

  get(name: string): Variable {
    const v = this.vars.get(name);
    if (!v) throw new HourglassError(`no parameter named ${name}`);
    return v;
  }

  get1d(name: string): Tensor1D {
    return this.get(name) as Tensor as Tensor1D;
  }

  get4d(name: string): Tensor4D {
    return this.get(name) as Tensor as Tensor4D;
  }

  /** Overwrites a (non-trainable) parameter, e.g. a running statistic. */
  update(name: string, value: Tensor): void {
    this.get(name).assign(value);
  }

  names(): string[] {
    return [...this.vars.keys()];
  }

  /** Trainable variables, keyed by their parameter name. */
  trainable(): Map<string, Variable> {
    return new Map(this.specs.filter((s) => s.trainable).map((s) => [s.name, this.get(s.name)]));
  }

  /** All variables, keyed by parameter name (what a checkpoint stores). */
  all(): Map<string, Variable> {
    return new Map(this.vars);
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

// Variable names must be unique in the engine, and several networks may live side by side.
let counter = 0;
function uniqueSuffix(): string {
  counter += 1;
  return String(counter);
}

function initialValue(spec: ParamSpec, seed: number): Tensor {
  const shape = [...spec.shape];
  switch (spec.init) {
    case 'zeros':
      return tf.zeros(shape);
    case 'ones':
      return tf.ones(shape);
    case 'uniform': {
      const bound = 1 / Math.sqrt(spec.fanIn ?? 1);
      return tf.randomUniform(shape, -bound, bound, 'float32', seed);
    }
  }
}
