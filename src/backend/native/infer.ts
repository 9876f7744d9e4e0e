// predict() on the native backend without the TF.js engine: the batch-norm-folded network (src/model/fold.ts) is
// walked once per batch size into a flat plan -- convolutions with bias, ReLU and residual/merge sums fused as oneDNN
// post-ops, the pre-activation BN+ReLU as one pass, max pooling, upsample+add as one pass -- over buffers assigned
// by liveness, feature maps in oneDNN's blocked layout where the channels allow (Winograd 3x3s) -- and
// native/src/infer.cc compiles it (primitives, weights reordered once) and runs it in one call per predict().
// The TF.js path stays the reference and the fallback (other backends, training, plans over the memory cap). Under
// the bf16 precision (precision.ts) plans run their convolutions in bf16 with f32 accumulation (infer.cc).
import { tf } from '../../tf.js';
import type { Tensor, Tensor4D, Variable } from '../../tf.js';
import { BN_EPSILON, ResidualSeq, type BatchNorm, type Conv, type Residual } from '../../model/layers.js';
import type { Hourglass, StackedHourglass } from '../../model/network.js';
import type { FoldedParams } from '../../model/fold.js';
import type { ParamStore } from '../../model/params.js';
import type { InferenceExecutor } from '../../model/model.js';
import type { InferPlanHandle, InferPlanInfo, InferPlanOp, NativeAddon } from './addon.js';
import { alloc, f32, type Backend } from './kernel-util.js';

/** Op kinds of native/src/infer.cc (enum OpKind). */
export const enum OpKind {
  Conv = 0,
  BnRelu = 1,
  MaxPool = 2,
  UpsampleAdd = 3,
  Copy = 4,
  Reorder = 5,
}

/** Memory layouts of values (native/src/infer.cc, enum Layout). */
export const enum Layout {
  Nhwc = 0,
  /** oneDNN's nChw16c / nChw8c: channel blocks of the plan's block size, padded with zeros. */
  Blocked = 1,
  /** For convolutions only: the image into the first convolution of a blocked plan. */
  Nchw = 2,
}

/** Buffer ids of the plan's input (the images) and output (the last stack's heatmaps). */
const INPUT = -1;
const OUTPUT = -2;

/**
 * 3x3 convolutions with maps of at least this many pixels run as Winograd F(2x2 or 4x4, 3x3) in oneDNN's blocked
 * layout (weights transformed once, at plan build): measured on the 2-core AVX-512 machine, 1.6-2x faster than direct
 * on 32x32 and larger maps at 64 channels, about even on 16x16, slower below. Batch 1 end to end: small 9.3 vs 10.9 ms,
 * paper2 82 vs 102 ms (blocked + Winograd vs all-NHWC direct plans, medians alternating in one process, loaded machine).
 */
const WINOGRAD_MIN_PIXELS = 256;

/** Plans kept per model (one per batch size, least recently used dropped first). */
const MAX_PLANS = 3;
/** Batches whose plan would hold more activation memory than this go the TF.js way (HOURGLASS_NATIVE_PLAN_MB). */
const MAX_ACTIVATION_BYTES = Number(process.env.HOURGLASS_NATIVE_PLAN_MB ?? 1024) * 2 ** 20;

let warned = false;
let enabled = process.env.HOURGLASS_NATIVE_PLAN !== '0';
const stats = { builds: 0, runs: 0, live: 0 };

/** Turns plan execution on or off for every model (off: predict() takes the TF.js path); returns the previous setting. */
export function setNativeInference(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}

/** Plans built and runs since start, and plans alive now (lets tests tell the plan path from a silent fallback). */
export function nativeInferenceStats(): { builds: number; runs: number; live: number } {
  return { ...stats };
}

interface ValueSpec {
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly layout: Layout;
}

/** An op before buffer assignment; `into`: the value whose buffer the op accumulates onto (its output takes it over). */
interface OpSpec {
  readonly kind: OpKind;
  readonly src: number;
  readonly dst: number;
  into?: number;
  readonly fields: Record<string, number | boolean | Float32Array>;
}

/** A tensor's float32 values without a copy where possible (kernels' own arrays are not pinned by reading them here). */
function floats(t: Tensor): Float32Array {
  const own = f32(tf.backend() as Backend, t);
  if (own) return own.data;
  const data = t.dataSync();
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/** Walks the network as StackedHourglass.apply does (inference, folded), recording ops on SSA values. */
class PlanBuilder {
  readonly values: ValueSpec[] = [];
  readonly ops: OpSpec[] = [];
  readonly input: number;
  output = -1;

  constructor(
    private readonly network: StackedHourglass,
    private readonly params: ParamStore,
    private readonly folded: FoldedParams,
    private readonly batch: number,
    /** Of the feature maps: Nhwc or Blocked. */
    private readonly layout: Layout,
    private readonly block: number,
    private readonly winograd: boolean,
  ) {
    const s = network.config.inputSize;
    this.input = this.value({ c: 3, h: s, w: s, layout: Layout.Nhwc });
  }

  private value(spec: ValueSpec): number {
    this.values.push(spec);
    return this.values.length - 1;
  }

  private like(v: number, layout = this.values[v].layout): number {
    return this.value({ ...this.values[v], layout });
  }

  floatsOf(v: number): number {
    const { c, h, w, layout } = this.values[v];
    const stored = layout === Layout.Blocked ? Math.ceil(c / this.block) * this.block : c;
    return this.batch * stored * h * w;
  }

  /** dst = relu?(conv(src) + bias) (+ into): folded convolutions carry their BN and ReLU, as Conv.apply runs them. */
  conv(conv: Conv, src: number, options: { into?: number; layout?: Layout } = {}): number {
    const x = this.values[src];
    if (x.c !== conv.inChannels) throw new Error(`plan: ${conv.name} expects ${conv.inChannels} channels, got ${x.c}`);
    const shape = { c: conv.outChannels, h: conv.outSize(x.h), w: conv.outSize(x.w) };
    if (options.into !== undefined) {
      const t = this.values[options.into];
      if (t.c !== shape.c || t.h !== shape.h || t.w !== shape.w) throw new Error(`plan: ${conv.name} cannot accumulate onto its target`);
    }
    const dst = options.into !== undefined
      ? this.like(options.into)
      : this.value({ ...shape, layout: options.layout ?? this.layout });
    const folded = this.folded.conv(conv.name);
    const filter = folded ? folded.filter : this.params.get4d(`${conv.name}.weight`);
    const bias = folded ? folded.bias : this.params.get1d(`${conv.name}.bias`);
    this.ops.push({
      kind: OpKind.Conv, src, dst, into: options.into,
      fields: {
        kernel: conv.kernel, stride: conv.stride, relu: folded !== undefined, accumulate: options.into !== undefined,
        filter: floats(filter), bias: floats(bias),
        winograd: this.winograd && this.values[dst].layout === Layout.Blocked && conv.kernel === 3 && conv.stride === 1 && shape.h * shape.w >= WINOGRAD_MIN_PIXELS,
      },
    });
    return dst;
  }

  /** BatchNorm.apply(x, relu = true) at inference: nothing where folded into the convolution before, else one pass. */
  bnRelu(bn: BatchNorm, src: number): number {
    if (this.folded.absorbs(bn.name)) return src;
    const p = (suffix: string) => floats(this.params.get(`${bn.name}.${suffix}`));
    const dst = this.like(src);
    this.ops.push({
      kind: OpKind.BnRelu, src, dst,
      fields: { mean: p('runningMean'), variance: p('runningVar'), gamma: p('gamma'), beta: p('beta'), epsilon: BN_EPSILON },
    });
    return dst;
  }

  maxPool(src: number): number {
    const x = this.values[src];
    const dst = this.value({ ...x, h: x.h / 2, w: x.w / 2 });
    this.ops.push({ kind: OpKind.MaxPool, src, dst, fields: {} });
    return dst;
  }

  /** up + resizeNearest(low, 2x), accumulated onto up. */
  upsampleAdd(low: number, up: number): number {
    const dst = this.like(up);
    this.ops.push({ kind: OpKind.UpsampleAdd, src: low, dst, into: up, fields: {} });
    return dst;
  }

  reorder(src: number, layout: Layout): number {
    if (this.values[src].layout === layout) return src;
    const dst = this.like(src, layout);
    this.ops.push({ kind: OpKind.Reorder, src, dst, fields: {} });
    return dst;
  }

  residual(r: Residual, x: number): number {
    const skip = r.skip ? this.conv(r.skip, x) : x;
    let h = this.conv(r.conv1, this.bnRelu(r.bn1, x));
    h = this.conv(r.conv2, this.bnRelu(r.bn2, h));
    return this.conv(r.conv3, this.bnRelu(r.bn3, h), { into: skip });
  }

  seq(s: ResidualSeq, x: number): number {
    return s.blocks.reduce((h, b) => this.residual(b, h), x);
  }

  hourglass(hg: Hourglass, x: number): number {
    const pooled = this.maxPool(x); // first: then x's last reader is the up branch, which may accumulate onto it
    const up = this.seq(hg.up, x);
    let low = this.seq(hg.low1, pooled);
    low = hg.inner instanceof ResidualSeq ? this.seq(hg.inner, low) : this.hourglass(hg.inner, low);
    low = this.seq(hg.low3, low);
    return this.upsampleAdd(low, up);
  }

  build(): void {
    const { stem, hourglasses, heads, mergeFeatures, mergeHeatmaps, config } = this.network;
    // Convolutions from NHWC to blocked are slow (oneDNN's reference kernel), from NCHW fast: the image is reordered.
    const image = this.layout === Layout.Blocked ? this.reorder(this.input, Layout.Nchw) : this.input;
    let x = this.bnRelu(stem.bn, this.conv(stem.conv, image));
    x = this.residual(stem.res1, x);
    x = this.residual(stem.res3, this.residual(stem.res2, this.maxPool(x)));
    for (let i = 0; i < config.stacks; i++) {
      const hg = this.hourglass(hourglasses[i], x);
      const features = this.bnRelu(heads[i].bn, this.conv(heads[i].conv, this.seq(heads[i].residual, hg)));
      const heatmaps = this.conv(heads[i].out, features);
      if (i < config.stacks - 1) {
        x = this.conv(mergeFeatures[i], features, { into: x });
        x = this.conv(mergeHeatmaps[i], heatmaps, { into: x });
      } else {
        this.output = this.reorder(heatmaps, Layout.Nhwc);
      }
    }
  }
}

/** Values each op reads. */
function reads(op: OpSpec): number[] {
  return op.into === undefined ? [op.src] : [op.src, op.into];
}

function lastUses(ops: readonly OpSpec[]): Map<number, number> {
  const last = new Map<number, number>();
  ops.forEach((op, i) => reads(op).forEach((v) => last.set(v, i)));
  return last;
}

/**
 * Accumulating ops write onto their `into` value's buffer, so that value must die there: where it is read later (or
 * is the input), a copy goes first. Then buffers are assigned greedily, each reused once its last reader has run.
 */
function assignBuffers(
  values: ValueSpec[], ops: readonly OpSpec[], input: number, output: number, floatsOf: (v: number) => number,
): { ops: OpSpec[]; buffers: number[]; bufferOf: Int32Array } {
  const firstLast = lastUses(ops);
  const planned: OpSpec[] = [];
  ops.forEach((op, i) => {
    if (op.into !== undefined && (op.into === input || (firstLast.get(op.into) ?? -1) > i)) {
      values.push({ ...values[op.into] });
      const copy = values.length - 1;
      planned.push({ kind: OpKind.Copy, src: op.into, dst: copy, fields: {} });
      planned.push({ ...op, into: copy });
    } else {
      planned.push(op);
    }
  });
  const last = lastUses(planned);
  const bufferOf = new Int32Array(values.length).fill(-3);
  bufferOf[input] = INPUT;
  const buffers: number[] = [];
  const free = new Map<number, number[]>();
  const release = (v: number) => {
    const b = bufferOf[v];
    if (b < 0) return;
    const size = buffers[b];
    free.set(size, [...(free.get(size) ?? []), b]);
  };
  planned.forEach((op, i) => {
    if (op.into !== undefined) {
      if (op.dst === output) throw new Error('plan: the output cannot be accumulated onto another value');
      bufferOf[op.dst] = bufferOf[op.into];
    } else if (op.dst === output) {
      bufferOf[op.dst] = OUTPUT;
    } else {
      const size = floatsOf(op.dst);
      const reuse = free.get(size)?.pop();
      if (reuse !== undefined) {
        bufferOf[op.dst] = reuse;
      } else {
        buffers.push(size);
        bufferOf[op.dst] = buffers.length - 1;
      }
    }
    for (const v of reads(op)) if (last.get(v) === i && v !== op.into) release(v);
    if (!last.has(op.dst) && op.dst !== output) release(op.dst);
  });
  return { ops: planned, buffers, bufferOf };
}

interface PlanLayout {
  /** Of the feature maps: oneDNN's blocked layout (channel blocks of `block`), or NHWC. */
  readonly layout: Layout;
  readonly block: number;
  readonly winograd: boolean;
}

/**
 * Blocked (nChw16c on AVX-512, nChw8c on AVX2) when the feature maps' channels (64, 128, features, features / 2)
 * fill whole blocks: oneDNN's Winograd kernels need it, and its 1x1 and direct kernels are as fast there as on NHWC.
 * HOURGLASS_NATIVE_WINOGRAD=0 (as for the conv kernels) keeps direct convolutions.
 */
function planLayout(addon: NativeAddon, features: number): PlanLayout {
  const isa = addon.info().isa;
  const block = isa.startsWith('avx512') ? 16 : isa.startsWith('avx') ? 8 : 0;
  const blocked = block > 0 && features % (2 * block) === 0 && process.env.HOURGLASS_NATIVE_PLAN_LAYOUT !== 'nhwc';
  return { layout: blocked ? Layout.Blocked : Layout.Nhwc, block: block || 16, winograd: process.env.HOURGLASS_NATIVE_WINOGRAD !== '0' };
}

interface Plan {
  readonly handle: InferPlanHandle;
  readonly outShape: [number, number, number, number];
}

/** The native backend's InferenceExecutor for one model: plans per batch size, rebuilt when a parameter changes. */
export class NativeInference implements InferenceExecutor {
  /** By batch size; null: that batch is left to the TF.js path (over the memory cap). */
  private readonly plans = new Map<number, Plan | null>();
  private folded: FoldedParams | null = null;
  /** Every parameter with the data it held when the plans were built (assign() gives a variable new data). */
  private sources: [Variable, object][] = [];
  /** The backend's precision (src/backend/native/precision.ts) the plans were built in: bf16 plans under bf16. */
  private precision: 'fp32' | 'bf16' = 'fp32';

  constructor(
    private readonly addon: NativeAddon,
    private readonly network: StackedHourglass,
    private readonly params: ParamStore,
  ) {}

  run(images: Tensor4D, folded: FoldedParams): Tensor4D | null {
    if (!enabled || images.dtype !== 'float32' || images.shape[0] < 1) return null;
    const precision = this.addon.precisionInfo().precision;
    if (folded !== this.folded || precision !== this.precision || !this.sources.every(([v, id]) => !v.isDisposed && v.dataId === id)) {
      this.freePlans();
      this.precision = precision;
      this.folded = folded;
      this.sources = [...this.params.all().values()].map((v) => [v, v.dataId]);
    }
    const n = images.shape[0];
    let plan = this.plans.get(n);
    if (plan === undefined) {
      plan = this.build(n, folded);
      if (this.plans.size >= MAX_PLANS) {
        const [oldest, dropped] = this.plans.entries().next().value as [number, Plan | null];
        if (dropped) this.free(dropped);
        this.plans.delete(oldest);
      }
    } else {
      this.plans.delete(n); // re-inserted below: most recently used last
    }
    this.plans.set(n, plan);
    if (plan === null) return null;
    const heatmaps = alloc(plan.outShape.reduce((a, b) => a * b, 1));
    this.addon.runInferPlan(plan.handle, floats(images), heatmaps);
    stats.runs += 1;
    return tf.tensor4d(heatmaps, plan.outShape, 'float32');
  }

  /** The plan of a batch size's description (for tests and diagnostics). */
  describe(batch: number): InferPlanInfo | null {
    const plan = this.plans.get(batch);
    return plan ? this.addon.describeInferPlan(plan.handle) : null;
  }

  dispose(): void {
    this.freePlans();
    this.folded = null;
    this.sources = [];
  }

  private freePlans(): void {
    for (const plan of this.plans.values()) if (plan) this.free(plan);
    this.plans.clear();
  }

  private free(plan: Plan): void {
    this.addon.freeInferPlan(plan.handle);
    stats.live -= 1;
  }

  /** The plan for a batch size, or null (that batch goes the TF.js way) when over the memory cap or unbuildable. */
  private build(batch: number, folded: FoldedParams): Plan | null {
    try {
      const layout = planLayout(this.addon, this.network.config.features);
      const plan = this.compile(batch, folded, layout);
      if (plan === null || layout.layout !== Layout.Blocked) return plan;
      // A blocked layout oneDNN has no fast kernel for (a reference implementation) would lose: plain NHWC then.
      if (!this.addon.describeInferPlan(plan.handle).convImpls.some((impl) => impl.startsWith('ref'))) return plan;
      this.free(plan);
      return this.compile(batch, folded, { ...layout, layout: Layout.Nhwc, winograd: false });
    } catch (err) {
      if (!warned) {
        warned = true;
        process.emitWarning(`hourglass: native inference plan failed, predict() runs through TF.js: ${(err as Error).message}`);
      }
      return null;
    }
  }

  private compile(batch: number, folded: FoldedParams, layout: PlanLayout): Plan | null {
    const builder = new PlanBuilder(this.network, this.params, folded, batch, layout.layout, layout.block, layout.winograd);
    builder.build();
    const { values } = builder;
    const { ops, buffers, bufferOf } = assignBuffers(values, builder.ops, builder.input, builder.output, (v) => builder.floatsOf(v));
    if (buffers.reduce((a, b) => a + b, 0) * 4 > MAX_ACTIVATION_BYTES) return null;
    const packed = new Int32Array(values.length * 5);
    values.forEach((v, i) => packed.set([v.c, v.h, v.w, bufferOf[i], v.layout], i * 5));
    const handle = this.addon.createInferPlan({
      batch, block: layout.block, values: packed, buffers, bf16: this.precision === 'bf16',
      ops: ops.map((op): InferPlanOp => ({ kind: op.kind, src: op.src, dst: op.dst, ...op.fields })),
    });
    stats.builds += 1;
    stats.live += 1;
    const out = values[builder.output];
    return { handle, outShape: [batch, out.h, out.w, out.c] };
  }
}
