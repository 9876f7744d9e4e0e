// The native inference plan as data. The network's own forward pass (StackedHourglass.forward, network.ts) runs on a
// recorder of the batch-norm-folded network that makes plan ops on SSA values -- convolutions with bias, ReLU and
// residual/merge sums fused as oneDNN post-ops, the pre-activation BN+ReLU as one pass, max pooling, upsample+add as
// one pass -- so the topology is written once; then the ops are ordered for accumulation in place (schedule) and
// buffers assigned by liveness. infer.ts compiles the result through the addon (native/src/infer.cc); nothing here
// needs the addon.
import { tf } from '../../tf.js';
import type { Tensor } from '../../tf.js';
import { BN_EPSILON, type BatchNorm, type Conv } from '../../model/layers.js';
import type { NetworkGraph } from '../../model/graph.js';
import type { StackedHourglass } from '../../model/network.js';
import type { FoldedParams } from '../../model/fold.js';
import type { ParamStore } from '../../model/params.js';
import { f32, type Backend } from './kernel-util.js';

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

export interface ValueSpec {
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly layout: Layout;
}

/** An op before buffer assignment; `into`: the value whose buffer the op accumulates onto (its output takes it over). */
export interface OpSpec {
  readonly kind: OpKind;
  readonly src: number;
  readonly dst: number;
  into?: number;
  /** The layer it runs (a convolution's or batch norm's name), for tests and diagnostics; '' for the others. */
  readonly label: string;
  readonly fields: Record<string, number | boolean | Float32Array>;
}

/** A tensor's float32 values without a copy where possible (kernels' own arrays are not pinned by reading them here). */
export function floats(t: Tensor): Float32Array {
  const own = f32(tf.backend() as Backend, t);
  if (own) return own.data;
  const data = t.dataSync();
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/**
 * The network's forward pass (network.ts) at inference, batch norms folded, recorded as plan ops on SSA values in the
 * order the forward pass makes them; schedule() then moves the few ops a plan needs earlier.
 */
class PlanRecorder implements NetworkGraph<number> {
  readonly values: ValueSpec[] = [];
  readonly ops: OpSpec[] = [];
  readonly input: number;

  constructor(
    private readonly params: ParamStore,
    private readonly folded: FoldedParams,
    private readonly batch: number,
    inputSize: number,
    /** Of the feature maps: Nhwc or Blocked. */
    private readonly layout: Layout,
    private readonly block: number,
    private readonly winograd: boolean,
  ) {
    this.input = this.value({ c: 3, h: inputSize, w: inputSize, layout: Layout.Nhwc });
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

  /** dst = relu?(conv(src) + bias): folded convolutions carry their BN and ReLU, as Conv.apply runs them. */
  conv(conv: Conv, src: number): number {
    const x = this.values[src];
    if (x.c !== conv.inChannels) throw new Error(`plan: ${conv.name} expects ${conv.inChannels} channels, got ${x.c}`);
    const dst = this.value({ c: conv.outChannels, h: conv.outSize(x.h), w: conv.outSize(x.w), layout: this.layout });
    const { h, w } = this.values[dst];
    const folded = this.folded.conv(conv.name);
    const filter = folded ? folded.filter : this.params.get4d(`${conv.name}.weight`);
    const bias = folded ? folded.bias : this.params.get1d(`${conv.name}.bias`);
    this.ops.push({
      kind: OpKind.Conv, src, dst, label: conv.name,
      fields: {
        kernel: conv.kernel, stride: conv.stride, relu: folded !== undefined, accumulate: false,
        filter: floats(filter), bias: floats(bias),
        winograd: this.winograd && this.layout === Layout.Blocked && conv.kernel === 3 && conv.stride === 1 && h * w >= WINOGRAD_MIN_PIXELS,
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
      kind: OpKind.BnRelu, src, dst, label: bn.name,
      fields: { mean: p('runningMean'), variance: p('runningVar'), gamma: p('gamma'), beta: p('beta'), epsilon: BN_EPSILON },
    });
    return dst;
  }

  maxPool2(src: number): number {
    const x = this.values[src];
    const dst = this.value({ ...x, h: x.h / 2, w: x.w / 2 });
    this.ops.push({ kind: OpKind.MaxPool, src, dst, label: '', fields: {} });
    return dst;
  }

  /** up + resizeNearest(low, 2x), accumulated onto up. */
  upsampleAdd(low: number, up: number): number {
    const dst = this.like(up);
    this.ops.push({ kind: OpKind.UpsampleAdd, src: low, dst, into: up, label: '', fields: {} });
    return dst;
  }

  /**
   * x + onto as oneDNN's sum post-op: the convolution that made x accumulates onto onto's buffer instead. x must be
   * a convolution's output that nothing has read yet, of onto's shape and layout (a plan has no other add).
   */
  add(x: number, onto: number): number {
    const at = this.ops.findIndex((op) => op.dst === x);
    const op = this.ops[at];
    const [a, b] = [this.values[x], this.values[onto]];
    if (op?.kind !== OpKind.Conv || op.into !== undefined || this.ops.some((o) => o.src === x || o.into === x)
      || a.c !== b.c || a.h !== b.h || a.w !== b.w || a.layout !== b.layout) {
      throw new Error(`plan: no convolution to accumulate the sum onto (${op?.label ?? `value ${x}`})`);
    }
    this.ops[at] = { ...op, into: onto, fields: { ...op.fields, accumulate: true } };
    return x;
  }

  sum(terms: number[]): number {
    return terms.slice(1).reduce((total, term) => this.add(term, total), terms[0]);
  }

  reorder(src: number, layout: Layout): number {
    if (this.values[src].layout === layout) return src;
    const dst = this.like(src, layout);
    this.ops.push({ kind: OpKind.Reorder, src, dst, label: '', fields: {} });
    return dst;
  }
}

/**
 * The forward pass's order, with the moves a plan needs: an op accumulating onto a value (`into`) overwrites it, so
 * that value must be made, and read by every other op, before. What the forward pass makes or reads later -- a
 * residual's skip convolution (after the main path added onto it), the hourglass's pooling (after the up branch,
 * whose first residual adds onto the hourglass's input) -- moves to right after the op that makes its input. A later
 * reader that cannot move (it needs a later value too) reads a copy: assignBuffers.
 */
function schedule(recorded: readonly OpSpec[]): OpSpec[] {
  const ops = [...recorded];
  const madeAt = (v: number) => ops.findIndex((op) => op.dst === v);
  /** Moves ops[i] to right after the op that makes its input; false when it cannot go earlier. */
  const hoist = (i: number): boolean => {
    const op = ops[i];
    const at = madeAt(op.src) + 1;
    if (op.into !== undefined || at >= i) return false;
    ops.splice(i, 1);
    ops.splice(at, 0, op);
    return true;
  };
  for (let i = 0; i < ops.length; i++) {
    const accumulating = ops[i];
    const onto = accumulating.into;
    if (onto === undefined) continue;
    if (madeAt(onto) > i) {
      hoist(madeAt(onto));
      i = ops.indexOf(accumulating);
      if (madeAt(onto) > i) throw new Error(`plan: ${accumulating.label} accumulates onto a value that cannot be made before it`);
    }
    for (let j = i + 1; j < ops.length; j++) {
      if (ops[j].src === onto && hoist(j)) i++; // it went before ops[i]
    }
  }
  return ops;
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
      planned.push({ kind: OpKind.Copy, src: op.into, dst: copy, label: '', fields: {} });
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

export interface PlanLayout {
  /** Of the feature maps: oneDNN's blocked layout (channel blocks of `block`), or NHWC. */
  readonly layout: Layout;
  readonly block: number;
  readonly winograd: boolean;
  /** Which ops run on the OpenMP team and which on one thread (InferPlanDescription.threads). */
  readonly threads: 'measured' | 'team' | 'one';
}

/** A plan before compilation: values (their buffers in bufferOf), ops in run order, and the buffers' float counts. */
export interface RecordedPlan {
  readonly values: ValueSpec[];
  readonly ops: OpSpec[];
  readonly buffers: number[];
  readonly bufferOf: Int32Array;
  /** The value of the last stack's heatmaps, NHWC. */
  readonly output: number;
}

/** Records the plan of a network, its parameters and their folding for one batch size and layout. */
export function recordPlan(
  network: StackedHourglass, params: ParamStore, folded: FoldedParams, batch: number, layout: PlanLayout,
): RecordedPlan {
  const recorder = new PlanRecorder(params, folded, batch, network.config.inputSize, layout.layout, layout.block, layout.winograd);
  // Convolutions from NHWC to blocked are slow (oneDNN's reference kernel), from NCHW fast: the image is reordered.
  const image = layout.layout === Layout.Blocked ? recorder.reorder(recorder.input, Layout.Nchw) : recorder.input;
  const heatmaps = network.forward(recorder, image);
  const output = recorder.reorder(heatmaps[heatmaps.length - 1], Layout.Nhwc);
  const { values } = recorder;
  const { ops, buffers, bufferOf } = assignBuffers(values, schedule(recorder.ops), recorder.input, output, (v) => recorder.floatsOf(v));
  return { values, ops, buffers, bufferOf, output };
}
