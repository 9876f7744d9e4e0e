// Inference-time batch-norm folding: every BN + ReLU that directly follows a convolution (conv1 -> BN2 and
// conv2 -> BN3 in the pre-activation residual, the stem's conv7x7 -> BN, each head's conv1x1 -> BN) becomes that
// convolution's filter and bias, with the ReLU as a fused post-op. BN1 of a residual normalises the block's input,
// which the skip path also reads, so it stays a (one-pass, ReLU-fused) scale-shift op. The pairs are found by
// running the network's forward pass (network.ts), not listed by hand.
import { tf } from '../tf.js';
import type { Tensor, Tensor1D, Tensor4D } from '../tf.js';
import { BN_EPSILON, type BatchNorm, type Conv, type FoldedConvs } from './layers.js';
import type { NetworkGraph } from './graph.js';
import type { StackedHourglass } from './network.js';
import type { ParamStore } from './params.js';

/** A convolution and the batch norm (+ ReLU) applied right after it. */
interface FoldPair {
  readonly conv: Conv;
  readonly bn: BatchNorm;
}

/**
 * The forward pass run on where values come from: a batch norm (with its ReLU) can fold into the convolution that
 * made its input when nothing else reads that convolution's output.
 */
class PairFinder implements NetworkGraph<number> {
  /** Per value: the convolution that made it (null: another op, or the image), and how many ops read it. */
  private readonly madeBy: (Conv | null)[] = [null];
  readonly readers: number[] = [0];
  readonly candidates: { conv: Conv; bn: BatchNorm; value: number }[] = [];

  private make(conv: Conv | null, inputs: number[]): number {
    for (const v of inputs) this.readers[v] += 1;
    this.madeBy.push(conv);
    this.readers.push(0);
    return this.madeBy.length - 1;
  }

  conv(layer: Conv, x: number): number {
    return this.make(layer, [x]);
  }

  bnRelu(bn: BatchNorm, x: number): number {
    const conv = this.madeBy[x];
    if (conv) this.candidates.push({ conv, bn, value: x });
    return this.make(null, [x]);
  }

  maxPool2(x: number): number {
    return this.make(null, [x]);
  }

  upsampleAdd(low: number, up: number): number {
    return this.make(null, [low, up]);
  }

  add(x: number, onto: number): number {
    return this.make(null, [x, onto]);
  }

  sum(terms: number[]): number {
    return this.make(null, terms);
  }
}

/** Every (conv, BN) pair of the network whose BN (with its ReLU) can be folded into the conv, in forward order. */
export function foldPairs(network: StackedHourglass): FoldPair[] {
  const finder = new PairFinder();
  network.forward(finder, 0);
  return finder.candidates.filter((c) => finder.readers[c.value] === 1).map(({ conv, bn }) => ({ conv, bn }));
}

/**
 * bn(conv(x)) with running statistics = conv'(x): s = gamma / sqrt(var + eps), filter' = filter * s (per output
 * channel), bias' = (bias - mean) * s + beta. filter: [k, k, in, out]; the rest [out].
 */
export function foldBatchNorm(
  filter: Tensor4D, bias: Tensor1D, mean: Tensor1D, variance: Tensor1D, gamma: Tensor1D, beta: Tensor1D, epsilon = BN_EPSILON,
): { filter: Tensor4D; bias: Tensor1D } {
  return tf.tidy(() => {
    const scale = tf.div(gamma, tf.sqrt(tf.add(variance, epsilon))); // [out]
    return {
      filter: tf.mul(filter, scale) as Tensor4D, // broadcasts over the last (output) axis
      bias: tf.add(tf.mul(tf.sub(bias, mean), scale), beta) as Tensor1D,
    };
  });
}

/** The folded convolutions of one network and parameter state; owns its tensors. */
export class FoldedParams implements FoldedConvs {
  private readonly convs = new Map<string, { filter: Tensor4D; bias: Tensor1D }>();
  private readonly absorbed = new Set<string>();
  /** The parameters folded, each with the data it held then: assign() gives a variable new data. */
  private readonly sources: [Tensor, object][];

  private constructor(network: StackedHourglass, params: ParamStore) {
    const used = new Set<string>();
    for (const { conv, bn } of foldPairs(network)) {
      const get1d = (suffix: string) => params.get1d(`${bn.name}.${suffix}`);
      const { filter, bias } = foldBatchNorm(
        params.get4d(`${conv.name}.weight`), params.get1d(`${conv.name}.bias`),
        get1d('runningMean'), get1d('runningVar'), get1d('gamma'), get1d('beta'),
      );
      // Kept: predict() may run inside the caller's tidy, which must not dispose the cache.
      this.convs.set(conv.name, { filter: tf.keep(filter), bias: tf.keep(bias) });
      this.absorbed.add(bn.name);
      for (const name of [...conv.specs, ...bn.specs].map((s) => s.name)) used.add(name);
    }
    this.sources = [...used].map((name) => {
      const v = params.get(name);
      return [v, v.dataId];
    });
  }

  /** Folds the current parameter values (call dispose() when done, or let HourglassModel own it). */
  static fold(network: StackedHourglass, params: ParamStore): FoldedParams {
    return new FoldedParams(network, params);
  }

  /** Whether no parameter it was folded from has been assigned since. */
  isCurrent(): boolean {
    return this.sources.every(([v, dataId]) => !v.isDisposed && v.dataId === dataId);
  }

  conv(name: string): { filter: Tensor4D; bias: Tensor1D } | undefined {
    return this.convs.get(name);
  }

  absorbs(batchNormName: string): boolean {
    return this.absorbed.has(batchNormName);
  }

  dispose(): void {
    for (const { filter, bias } of this.convs.values()) tf.dispose([filter, bias]);
    this.convs.clear();
    this.absorbed.clear();
  }
}
