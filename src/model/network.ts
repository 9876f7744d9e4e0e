// The stacked hourglass network (Newell et al. 2016; docs/method.md "Network"): stem, recursive hourglass, per-stack
// head, and the remap of features and heatmaps into the next stack. One heatmap output per stack. The forward pass
// is written once, over the operations of graph.ts: TF.js runs it (apply), and the native inference plan
// (src/backend/native/plan.ts), the TF.js export (src/export/tfjs.ts) and batch-norm folding (fold.ts) record it.
import type { Tensor4D } from '../tf.js';
import { heatmapSize, type HourglassConfig } from './config.js';
import { TfGraph, type NetworkGraph } from './graph.js';
import { BatchNorm, Conv, ResidualSeq, Residual, type ApplyContext } from './layers.js';
import { ParamStore, specSize, type ParamSpec } from './params.js';

/** Hourglass(n): up = Residual(s) at this resolution; down = pool -> Residual(s) -> Hourglass(n-1) | Residual(s) -> Residual(s) -> upsample. */
export class Hourglass {
  readonly up: ResidualSeq;
  readonly low1: ResidualSeq;
  readonly inner: Hourglass | ResidualSeq;
  readonly low3: ResidualSeq;
  readonly specs: ParamSpec[];

  constructor(readonly name: string, readonly depth: number, features: number, modules: number) {
    this.up = new ResidualSeq(`${name}.up`, features, features, modules);
    this.low1 = new ResidualSeq(`${name}.low1`, features, features, modules);
    this.inner = depth > 1
      ? new Hourglass(`${name}.inner`, depth - 1, features, modules)
      : new ResidualSeq(`${name}.bottom`, features, features, modules);
    this.low3 = new ResidualSeq(`${name}.low3`, features, features, modules);
    this.specs = [...this.up.specs, ...this.low1.specs, ...this.inner.specs, ...this.low3.specs];
  }

  /** x: [N, H, W, f] -> [N, H, W, f]. */
  forward<V>(g: NetworkGraph<V>, x: V): V {
    const up = this.up.forward(g, x);
    let low = this.low1.forward(g, g.maxPool2(x, `${this.name}.pool`)); // [N, H/2, W/2, f]
    low = this.low3.forward(g, this.inner.forward(g, low));
    return g.upsampleAdd(low, up, this.name);
  }

  flops(size: number): number {
    return this.up.flops(size) + this.low1.flops(size / 2) + this.inner.flops(size / 2) + this.low3.flops(size / 2);
  }
}

/** Head of one stack: Residual(s) -> conv1x1 + BN + ReLU (the features) -> conv1x1 to K heatmaps. */
class StackHead {
  readonly residual: ResidualSeq;
  readonly conv: Conv;
  readonly bn: BatchNorm;
  readonly out: Conv;
  readonly specs: ParamSpec[];
  constructor(name: string, features: number, joints: number, modules: number) {
    this.residual = new ResidualSeq(`${name}.residual`, features, features, modules);
    this.conv = new Conv(`${name}.conv`, features, features, 1);
    this.bn = new BatchNorm(`${name}.bn`, features);
    this.out = new Conv(`${name}.out`, features, joints, 1);
    this.specs = [...this.residual.specs, ...this.conv.specs, ...this.bn.specs, ...this.out.specs];
  }

  /** hg: [N, h, w, f] -> features [N, h, w, f] and heatmaps [N, h, w, K]. */
  forward<V>(g: NetworkGraph<V>, hg: V): { features: V; heatmaps: V } {
    const features = g.bnRelu(this.bn, g.conv(this.conv, this.residual.forward(g, hg)));
    return { features, heatmaps: g.conv(this.out, features) };
  }

  flops(size: number): number {
    return this.residual.flops(size) + this.conv.flops(size) + this.out.flops(size);
  }
}

/** Stem: conv7x7/2 (3->64) + BN + ReLU, Residual(64->128), maxpool 2x2, Residual(128->128), Residual(128->f). */
class Stem {
  readonly conv = new Conv('stem.conv', 3, 64, 7, 2);
  readonly bn = new BatchNorm('stem.bn', 64);
  readonly res1: Residual;
  readonly res2: Residual;
  readonly res3: Residual;
  readonly specs: ParamSpec[];
  constructor(features: number) {
    this.res1 = new Residual('stem.res1', 64, 128);
    this.res2 = new Residual('stem.res2', 128, 128);
    this.res3 = new Residual('stem.res3', 128, features);
    this.specs = [this.conv, this.bn, this.res1, this.res2, this.res3].flatMap((b) => b.specs);
  }

  /** image: [N, S, S, 3] -> [N, S/4, S/4, f]. */
  forward<V>(g: NetworkGraph<V>, image: V): V {
    const x = this.res1.forward(g, g.bnRelu(this.bn, g.conv(this.conv, image))); // [N, S/2, S/2, 128]
    return this.res3.forward(g, this.res2.forward(g, g.maxPool2(x, 'stem.pool'))); // [N, S/4, S/4, f]
  }

  flops(size: number): number {
    const half = this.conv.outSize(size);
    return this.conv.flops(size) + this.res1.flops(half) + this.res2.flops(half / 2) + this.res3.flops(half / 2);
  }
}

/** The layout of a stacked hourglass network for a config: its parameter specs, forward pass and cost. */
export class StackedHourglass {
  readonly stem: Stem;
  readonly hourglasses: Hourglass[];
  readonly heads: StackHead[];
  /** Remaps into the next stack (stacks - 1 of each): features f->f and heatmaps K->f, both conv1x1. */
  readonly mergeFeatures: Conv[];
  readonly mergeHeatmaps: Conv[];
  readonly specs: ParamSpec[];

  constructor(readonly config: HourglassConfig) {
    const { stacks, features: f, joints: k, modules, depth } = config;
    this.stem = new Stem(f);
    this.hourglasses = Array.from({ length: stacks }, (_, i) => new Hourglass(`stack${i}.hg`, depth, f, modules));
    this.heads = Array.from({ length: stacks }, (_, i) => new StackHead(`stack${i}.head`, f, k, modules));
    this.mergeFeatures = Array.from({ length: stacks - 1 }, (_, i) => new Conv(`stack${i}.mergeFeatures`, f, f, 1));
    this.mergeHeatmaps = Array.from({ length: stacks - 1 }, (_, i) => new Conv(`stack${i}.mergeHeatmaps`, k, f, 1));
    this.specs = [
      ...this.stem.specs,
      ...this.hourglasses.flatMap((h, i) => [
        ...h.specs,
        ...this.heads[i].specs,
        ...(i < stacks - 1 ? [...this.mergeFeatures[i].specs, ...this.mergeHeatmaps[i].specs] : []),
      ]),
    ];
  }

  /**
   * image: [N, S, S, 3], RGB in [0, 1] -> one heatmap value per stack, each [N, S/4, S/4, K].
   * The last element is the final prediction; the others are for intermediate supervision.
   */
  forward<V>(g: NetworkGraph<V>, image: V): V[] {
    let x = this.stem.forward(g, image); // [N, S/4, S/4, f]
    const outputs: V[] = [];
    for (let i = 0; i < this.config.stacks; i++) {
      const { features, heatmaps } = this.heads[i].forward(g, this.hourglasses[i].forward(g, x));
      outputs.push(heatmaps);
      if (i < this.config.stacks - 1) {
        x = g.sum([x, g.conv(this.mergeFeatures[i], features), g.conv(this.mergeHeatmaps[i], heatmaps)], `stack${i}.merge`);
      }
    }
    return outputs;
  }

  /** The forward pass on TF.js tensors (training, or inference with or without folded batch norms). */
  apply(ctx: ApplyContext, image: Tensor4D): Tensor4D[] {
    return this.forward(new TfGraph(ctx), image);
  }

  /** Trainable parameter count (running statistics excluded), computed from the layout alone. */
  parameterCount(): number {
    return this.specs.filter((s) => s.trainable).reduce((sum, s) => sum + specSize(s), 0);
  }

  /** Forward cost: 2 x multiply-adds of all convolutions, for one image of the configured input size. */
  flops(): number {
    const size = this.config.inputSize;
    const hm = heatmapSize(this.config);
    return this.stem.flops(size)
      + this.hourglasses.reduce((s, h) => s + h.flops(hm), 0)
      + this.heads.reduce((s, h) => s + h.flops(hm), 0)
      + [...this.mergeFeatures, ...this.mergeHeatmaps].reduce((s, c) => s + c.flops(hm), 0);
  }

  /** Allocates the parameters (seeded initialisation). The caller owns the store and must dispose it. */
  createParams(seed = 0): ParamStore {
    return new ParamStore(this.specs, seed);
  }
}
