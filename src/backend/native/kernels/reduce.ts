// Sum and Mean over leading axes (bias gradients: NHWC over N, H, W) or trailing axes (losses) on the addon
// (native/src/reduce.cc); reductions over other axis sets go to the cpu kernel.
import { tf } from '../../../tf.js';
import type { NativeAddon } from '../addon.js';
import { alloc, f32, nativeKernel, output, sizeOf } from '../kernel-util.js';

interface ReduceAttrs {
  axis: number | number[];
  keepDims: boolean;
}

type Plan = { kind: 'leading' | 'trailing'; outer: number; inner: number; outShape: number[]; count: number };

/** How a reduction of `shape` over `axis` maps onto an [outer, inner] view, or null if it does not. */
export function reducePlan(shape: number[], attrs: ReduceAttrs): Plan | null {
  const rank = shape.length;
  const axes = [...new Set(tf.util.parseAxisParam(attrs.axis, shape))].sort((a, b) => a - b);
  if (axes.length === 0 || rank === 0) return null;
  const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
  if (!contiguous) return null;
  const outShape = attrs.keepDims
    ? shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : shape.filter((_, i) => !axes.includes(i));
  const count = sizeOf(axes.map((a) => shape[a]));
  if (axes[0] === 0) {
    return { kind: 'leading', outer: count, inner: sizeOf(shape.slice(axes.length)), outShape, count };
  }
  if (axes[axes.length - 1] === rank - 1) {
    return { kind: 'trailing', outer: sizeOf(shape.slice(0, axes[0])), inner: count, outShape, count };
  }
  return null;
}

export function reduceKernels(addon: NativeAddon): tf.KernelConfig[] {
  const make = (name: 'Sum' | 'Mean') =>
    nativeKernel(name, ({ inputs, backend, attrs }) => {
      const x = f32(backend, inputs.x);
      if (!x) return null;
      const plan = reducePlan(x.shape, attrs as unknown as ReduceAttrs);
      if (!plan) return null;
      const size = plan.kind === 'leading' ? plan.inner : plan.outer;
      const out = alloc(size);
      if (plan.kind === 'leading') addon.sumLeading(x.data, out, plan.outer, plan.inner);
      else addon.sumTrailing(x.data, out, plan.outer, plan.inner);
      if (name === 'Mean') {
        // Divide by the count in float32, as the cpu kernel does (sum then RealDiv).
        const inv = plan.count;
        for (let i = 0; i < size; i++) out[i] = Math.fround(out[i] / inv);
      }
      return output(backend, plan.outShape, out);
    });
  return [make('Sum'), make('Mean')];
}
