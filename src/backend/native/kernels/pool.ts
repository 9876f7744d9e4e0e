// MaxPool / MaxPoolGrad and ResizeNearestNeighbor / its gradient on the addon's loops (native/src/pool.cc).
// Resize source indices are computed here with the cpu kernel's formulas, so both backends pick the same pixels.
import { tf } from '../../../tf.js';
import type { NativeAddon } from '../addon.js';
import { alloc, f32, int32, nativeKernel, output, sizeOf } from '../kernel-util.js';

type Pool2DInfo = ReturnType<typeof tf.backend_util.computePool2DInfo>;

interface PoolAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function poolInfo(xShape: number[], a: PoolAttrs): Pool2DInfo {
  return tf.backend_util.computePool2DInfo(
    xShape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode,
  );
}

/** The Int32Array geometry native/src/pool.cc reads (struct PoolGeometry), in its order. */
function poolGeometry(c: Pool2DInfo): Int32Array {
  return int32([
    c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.filterHeight, c.filterWidth,
    c.outHeight, c.outWidth, c.strideHeight, c.strideWidth, c.padInfo.top, c.padInfo.left,
  ]);
}

/** Source row (or column) of each output row for nearest resize, exactly as tfjs-backend-cpu computes it. */
export function nearestSourceIndices(
  inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean,
): Int32Array {
  const ratio = (alignCorners && outSize > 1 ? inSize - 1 : inSize) / (alignCorners && outSize > 1 ? outSize - 1 : outSize);
  const map = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const frac = halfPixelCenters ? ratio * (i + 0.5) : ratio * i;
    let src = Math.min(inSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
    if (halfPixelCenters) src = Math.max(0, src);
    map[i] = src;
  }
  return map;
}

interface ResizeAttrs {
  alignCorners: boolean;
  halfPixelCenters: boolean;
  size?: [number, number];
}

export function poolKernels(addon: NativeAddon): tf.KernelConfig[] {
  const maxPool = nativeKernel('MaxPool', ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x);
    if (!x || x.shape.length !== 4) return null;
    const info = poolInfo(x.shape, attrs as unknown as PoolAttrs);
    const y = alloc(sizeOf(info.outShape));
    addon.maxPool(x.data, y, poolGeometry(info));
    return output(backend, info.outShape, y);
  });

  const maxPoolGrad = nativeKernel('MaxPoolGrad', ({ inputs, backend, attrs }) => {
    const dy = f32(backend, inputs.dy);
    const x = f32(backend, inputs.input);
    if (!dy || !x || x.shape.length !== 4) return null;
    const info = poolInfo(x.shape, attrs as unknown as PoolAttrs);
    const dx = alloc(x.data.length);
    addon.maxPoolGrad(dy.data, x.data, dx, poolGeometry(info));
    return output(backend, [...x.shape], dx);
  });

  const resize = nativeKernel('ResizeNearestNeighbor', ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.images);
    const a = attrs as unknown as ResizeAttrs;
    if (!x || x.shape.length !== 4 || !a.size) return null;
    const [n, ih, iw, c] = x.shape;
    const [oh, ow] = a.size;
    const y = alloc(n * oh * ow * c);
    addon.resizeNearest(
      x.data, y, int32([n, ih, iw, c, oh, ow]),
      nearestSourceIndices(ih, oh, a.alignCorners, a.halfPixelCenters),
      nearestSourceIndices(iw, ow, a.alignCorners, a.halfPixelCenters),
    );
    return output(backend, [n, oh, ow, c], y);
  });

  // The exact adjoint of the forward map. (The cpu gradient ignores halfPixelCenters; this one does not.)
  const resizeGrad = nativeKernel('ResizeNearestNeighborGrad', ({ inputs, backend, attrs }) => {
    const dy = f32(backend, inputs.dy);
    const images = inputs.images;
    const a = attrs as unknown as ResizeAttrs;
    if (!dy || !images || images.shape.length !== 4 || dy.shape.length !== 4) return null;
    const [n, ih, iw, c] = images.shape;
    const [, oh, ow] = dy.shape;
    const dx = alloc(n * ih * iw * c);
    addon.resizeNearestGrad(
      dy.data, dx, int32([n, ih, iw, c, oh, ow]),
      nearestSourceIndices(ih, oh, a.alignCorners, a.halfPixelCenters ?? false),
      nearestSourceIndices(iw, ow, a.alignCorners, a.halfPixelCenters ?? false),
    );
    return output(backend, [n, ih, iw, c], dx);
  });

  return [maxPool, maxPoolGrad, resize, resizeGrad];
}
