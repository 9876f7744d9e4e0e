// predict() on the native backend without the TF.js engine: the batch-norm-folded network (src/model/fold.ts) is
// recorded once per batch size into a flat plan (plan.ts) -- convolutions with bias, ReLU and residual/merge sums fused as oneDNN
// post-ops, the pre-activation BN+ReLU as one pass, max pooling, upsample+add as one pass -- over buffers assigned
// by liveness, feature maps in oneDNN's blocked layout where the channels allow (Winograd 3x3s) -- and
// native/src/infer.cc compiles it (primitives, weights reordered once) and runs it in one call per predict().
// The TF.js path stays the reference and the fallback (other backends, training, plans over the memory cap). Under
// the bf16 precision (precision.ts) plans run their convolutions in bf16 with f32 accumulation (infer.cc).
import { tf } from '../../tf.js';
import type { Tensor4D, Variable } from '../../tf.js';
import type { StackedHourglass } from '../../model/network.js';
import type { FoldedParams } from '../../model/fold.js';
import type { ParamStore } from '../../model/params.js';
import type { InferenceExecutor } from '../../model/model.js';
import type { InferPlanHandle, InferPlanInfo, InferPlanOp, NativeAddon } from './addon.js';
import { alloc } from './kernel-util.js';
import { Layout, floats, recordPlan, type PlanLayout } from './plan.js';

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

/**
 * Blocked (nChw16c on AVX-512, nChw8c on AVX2) when the feature maps' channels (64, 128, features, features / 2)
 * fill whole blocks: oneDNN's Winograd kernels need it, and its 1x1 and direct kernels are as fast there as on NHWC.
 * HOURGLASS_NATIVE_WINOGRAD=0 (as for the conv kernels) keeps direct convolutions. HOURGLASS_NATIVE_PLAN_THREADS=team|one
 * runs every op on the OpenMP team or on one thread, instead of the faster of the two per op (diagnosis, tests).
 */
function planLayout(addon: NativeAddon, features: number): PlanLayout {
  const isa = addon.info().isa;
  const block = isa.startsWith('avx512') ? 16 : isa.startsWith('avx') ? 8 : 0;
  const blocked = block > 0 && features % (2 * block) === 0 && process.env.HOURGLASS_NATIVE_PLAN_LAYOUT !== 'nhwc';
  const threads = process.env.HOURGLASS_NATIVE_PLAN_THREADS;
  return {
    layout: blocked ? Layout.Blocked : Layout.Nhwc,
    block: block || 16,
    winograd: process.env.HOURGLASS_NATIVE_WINOGRAD !== '0',
    threads: threads === 'team' || threads === 'one' ? threads : 'measured',
  };
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
  /**
   * The backend's precision (src/backend/native/precision.ts) the plans were built in: bf16 plans under bf16, with
   * every convolution in bf16 ('all') or those measured faster ('measured').
   */
  private precision = 'fp32';

  constructor(
    private readonly addon: NativeAddon,
    private readonly network: StackedHourglass,
    private readonly params: ParamStore,
  ) {}

  run(images: Tensor4D, folded: FoldedParams): Tensor4D | null {
    if (!enabled || images.dtype !== 'float32' || images.shape[0] < 1) return null;
    const info = this.addon.precisionInfo();
    const precision = info.precision === 'bf16' ? `bf16/${info.bf16LayerMode}` : info.precision;
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
    const { values, ops, buffers, bufferOf, output } = recordPlan(this.network, this.params, folded, batch, layout);
    if (buffers.reduce((a, b) => a + b, 0) * 4 > MAX_ACTIVATION_BYTES) return null;
    const packed = new Int32Array(values.length * 5);
    values.forEach((v, i) => packed.set([v.c, v.h, v.w, bufferOf[i], v.layout], i * 5));
    const handle = this.addon.createInferPlan({
      batch, block: layout.block, values: packed, buffers, bf16: this.precision.startsWith('bf16'), threads: layout.threads,
      ops: ops.map((op): InferPlanOp => ({ kind: op.kind, src: op.src, dst: op.dst, ...op.fields })),
    });
    stats.builds += 1;
    stats.live += 1;
    const out = values[output];
    return { handle, outShape: [batch, out.h, out.w, out.c] };
  }
}
