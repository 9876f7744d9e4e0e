// Inference-time batch-norm folding: every BN + ReLU that directly follows a convolution (conv1 -> BN2 and
// conv2 -> BN3 in the pre-activation residual, the stem's conv7x7 -> BN, each head's conv1x1 -> BN) becomes that
// convolution's filter and bias, with the ReLU as a fused post-op. BN1 of a residual normalises the block's input,
// which the skip path also reads, so it stays a (one-pass, ReLU-fused) scale-shift op.
import { tf } from '../tf.js';
import type { Tensor, Tensor1D, Tensor4D } from '../tf.js';
import { BN_EPSILON, type BatchNorm, type Conv, type FoldedConvs, type Residual, ResidualSeq } from './layers.js';
import type { Hourglass, StackedHourglass } from './network.js';
import type { ParamStore } from './params.js';

/** A convolution and the batch norm (+ ReLU) applied right after it. */
interface FoldPair {
  readonly conv: Conv;
  readonly bn: BatchNorm;
}

function residualPairs(r: Residual): FoldPair[] {
  return [{ conv: r.conv1, bn: r.bn2 }, { conv: r.conv2, bn: r.bn3 }];
}

function hourglassResiduals(h: Hourglass): Residual[] {
  const inner = h.inner instanceof ResidualSeq ? h.inner.blocks : hourglassResiduals(h.inner);
  return [...h.up.blocks, ...h.low1.blocks, ...inner, ...h.low3.blocks];
}

/** Every (conv, BN) pair of the network whose BN (with its ReLU) can be folded into the conv. */
export function foldPairs(network: StackedHourglass): FoldPair[] {
  const residuals = [
    network.stem.res1, network.stem.res2, network.stem.res3,
    ...network.hourglasses.flatMap(hourglassResiduals),
    ...network.heads.flatMap((h) => h.residual.blocks),
  ];
  return [
    { conv: network.stem.conv, bn: network.stem.bn },
    ...network.heads.map((h) => ({ conv: h.conv, bn: h.bn })),
    ...residuals.flatMap(residualPairs),
  ];
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
