// Building blocks of the network (docs/method.md "Network"): convolution, batch norm, and the pre-activation
// bottleneck residual. Each block declares its parameters by name, defines its computation once (convolution and
// batch norm on NHWC tensors; the residual over the operations of graph.ts) and counts its own forward FLOPs, so
// parameter layout, computation and cost cannot disagree.
import { tf } from '../tf.js';
import type { Tensor4D, Tensor1D } from '../tf.js';
import { ops } from './ops.js';
import type { NetworkGraph } from './graph.js';
import type { ParamSpec, ParamStore } from './params.js';

/** Inference parameters with batch norms folded into the convolutions before them (fold.ts builds them). */
export interface FoldedConvs {
  /** The folded filter and bias of a convolution whose output went through BN + ReLU, or undefined. */
  conv(name: string): { filter: Tensor4D; bias: Tensor1D } | undefined;
  /** Whether this batch norm (and its ReLU) is already inside the convolution before it. */
  absorbs(batchNormName: string): boolean;
}

/** Applying a block needs the parameter values and whether batch norm uses batch statistics. */
export interface ApplyContext {
  readonly params: ParamStore;
  /** true: batch statistics, and running averages updated; false: running averages (inference). */
  readonly training: boolean;
  /** Inference only: convolutions with their batch norm (and ReLU) folded in. */
  readonly folded?: FoldedConvs;
}

/** Momentum of the running statistics (PyTorch's convention: running = (1 - m) * running + m * batch). */
export const BN_MOMENTUM = 0.1;
export const BN_EPSILON = 1e-5;

export class Conv {
  readonly specs: ParamSpec[];
  constructor(
    readonly name: string,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    readonly stride = 1,
  ) {
    const fanIn = inChannels * kernel * kernel;
    this.specs = [
      { name: `${name}.weight`, shape: [kernel, kernel, inChannels, outChannels], init: 'uniform', fanIn, trainable: true },
      { name: `${name}.bias`, shape: [outChannels], init: 'uniform', fanIn, trainable: true },
    ];
  }

  /** x: [N, H, W, inChannels] -> [N, H/stride, W/stride, outChannels]; symmetric padding (k-1)/2 as in PyTorch. */
  apply(ctx: ApplyContext, x: Tensor4D): Tensor4D {
    const w = ctx.params.get4d(`${this.name}.weight`);
    const b = ctx.params.get1d(`${this.name}.bias`);
    const pad = this.kernel === 1 ? 'valid' : this.stride === 1 ? 'same' : (this.kernel - 1) / 2;
    const folded = ctx.folded?.conv(this.name);
    if (folded) {
      // relu(bn(conv(x))) = relu(conv'(x)): one convolution with the ReLU as a post-op.
      return tf.fused.conv2d({ x, filter: folded.filter, bias: folded.bias, strides: this.stride, pad, activation: 'relu' });
    }
    return ops().conv2d(x, w, b, this.stride, pad);
  }

  /** Output side for a given input side. */
  outSize(size: number): number {
    return Math.floor((size + 2 * Math.floor((this.kernel - 1) / 2) - this.kernel) / this.stride) + 1;
  }

  /** 2 x multiply-adds for an input of side `size`. */
  flops(size: number): number {
    const out = this.outSize(size);
    return 2 * out * out * this.kernel * this.kernel * this.inChannels * this.outChannels;
  }
}

export class BatchNorm {
  readonly specs: ParamSpec[];
  constructor(readonly name: string, readonly channels: number) {
    this.specs = [
      { name: `${name}.gamma`, shape: [channels], init: 'ones', trainable: true },
      { name: `${name}.beta`, shape: [channels], init: 'zeros', trainable: true },
      { name: `${name}.runningMean`, shape: [channels], init: 'zeros', trainable: false },
      { name: `${name}.runningVar`, shape: [channels], init: 'ones', trainable: false },
    ];
  }

  /**
   * x: [N, H, W, C] -> same, followed by ReLU when `relu` (one fused op where the backend has it).
   * In training mode also moves the running averages toward the batch statistics.
   */
  apply(ctx: ApplyContext, x: Tensor4D, relu = false): Tensor4D {
    const p = ctx.params;
    const gamma = p.get1d(`${this.name}.gamma`);
    const beta = p.get1d(`${this.name}.beta`);
    if (!ctx.training) {
      if (ctx.folded?.absorbs(this.name)) {
        if (!relu) throw new Error(`batch norm ${this.name} was folded with its ReLU but is applied without one`);
        return x;
      }
      return ops().batchNormInfer(x, p.get1d(`${this.name}.runningMean`), p.get1d(`${this.name}.runningVar`), gamma, beta, BN_EPSILON, relu);
    }
    const o = ops();
    const { y, mean, variance } = relu ? o.batchNormReluTrain(x, gamma, beta, BN_EPSILON) : o.batchNormTrain(x, gamma, beta, BN_EPSILON);
    const [n, h, w] = x.shape;
    // Running variance is the unbiased estimate, as in PyTorch.
    const [runningMean, runningVar] = o.updateRunningStats(
      p.get1d(`${this.name}.runningMean`), p.get1d(`${this.name}.runningVar`), mean, variance, BN_MOMENTUM, n * h * w,
    );
    p.update(`${this.name}.runningMean`, runningMean);
    p.update(`${this.name}.runningVar`, runningVar);
    return y;
  }
}

/** Pre-activation bottleneck: BN-ReLU-conv1x1(in->out/2), BN-ReLU-conv3x3, BN-ReLU-conv1x1(->out); skip is identity or conv1x1. */
export class Residual {
  readonly bn1: BatchNorm;
  readonly conv1: Conv;
  readonly bn2: BatchNorm;
  readonly conv2: Conv;
  readonly bn3: BatchNorm;
  readonly conv3: Conv;
  readonly skip: Conv | null;
  readonly specs: ParamSpec[];

  constructor(readonly name: string, readonly inChannels: number, readonly outChannels: number) {
    const mid = outChannels / 2;
    this.bn1 = new BatchNorm(`${name}.bn1`, inChannels);
    this.conv1 = new Conv(`${name}.conv1`, inChannels, mid, 1);
    this.bn2 = new BatchNorm(`${name}.bn2`, mid);
    this.conv2 = new Conv(`${name}.conv2`, mid, mid, 3);
    this.bn3 = new BatchNorm(`${name}.bn3`, mid);
    this.conv3 = new Conv(`${name}.conv3`, mid, outChannels, 1);
    this.skip = inChannels === outChannels ? null : new Conv(`${name}.skip`, inChannels, outChannels, 1);
    this.specs = [this.bn1, this.conv1, this.bn2, this.conv2, this.bn3, this.conv3, ...(this.skip ? [this.skip] : [])]
      .flatMap((b) => b.specs);
  }

  /** x: [N, H, W, in] -> [N, H, W, out]. */
  forward<V>(g: NetworkGraph<V>, x: V): V {
    let h = g.conv(this.conv1, g.bnRelu(this.bn1, x));
    h = g.conv(this.conv2, g.bnRelu(this.bn2, h));
    h = g.conv(this.conv3, g.bnRelu(this.bn3, h));
    return g.add(h, this.skip ? g.conv(this.skip, x) : x, `${this.name}.add`);
  }

  flops(size: number): number {
    return this.conv1.flops(size) + this.conv2.flops(size) + this.conv3.flops(size) + (this.skip?.flops(size) ?? 0);
  }
}

/** `count` residuals in a row (the paper's "Residual(s)" with nModules). */
export class ResidualSeq {
  readonly blocks: Residual[];
  readonly specs: ParamSpec[];
  constructor(name: string, inChannels: number, outChannels: number, count: number) {
    this.blocks = Array.from({ length: count }, (_, i) => new Residual(`${name}.${i}`, i === 0 ? inChannels : outChannels, outChannels));
    this.specs = this.blocks.flatMap((b) => b.specs);
  }

  forward<V>(g: NetworkGraph<V>, x: V): V {
    return this.blocks.reduce((h, b) => b.forward(g, h), x);
  }

  flops(size: number): number {
    return this.blocks.reduce((sum, b) => sum + b.flops(size), 0);
  }
}
