// Corrections to TensorFlow.js 4.22's pure-JS `cpu` kernels that the hourglass depends on. Imported once by
// src/tf.ts, before any backend is used.
//
// ResizeNearestNeighborGrad: the stock kernel offsets into dy with the *input's* batch stride, so every
// upsample gets wrong gradients for batch > 1 (tests/backend/cpu-fixes.test.ts shows it). This version is the exact
// adjoint of the cpu forward kernel's index mapping: each dy value is added to the input cell it was copied from.
//
// Conv2DBackpropFilter: the stock kernel is ~60x slower than the forward convolution (24 s of a 25 s training step
// of a tiny network); this one walks the output once and accumulates outer products row by row (NHWC only; other
// layouts go to the stock kernel).
//
// Reverse: the stock kernel copies element by element through index arithmetic, 25 ms for one 128x128 RGB image
// (the flip test's mirror, twice the cost of the 2-stack network's whole batch-1 inference on native); this one
// copies contiguous runs.
import * as tfc from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

interface ResizeAttrs extends NamedAttrMap {
  alignCorners: boolean;
  halfPixelCenters: boolean;
}

/** Source index of output coordinate `o` along one axis, as the cpu forward kernel computes it. */
function sourceIndex(o: number, oldSize: number, newSize: number, alignCorners: boolean, halfPixelCenters: boolean): number {
  const effIn = alignCorners && newSize > 1 ? oldSize - 1 : oldSize;
  const effOut = alignCorners && newSize > 1 ? newSize - 1 : newSize;
  const ratio = effIn / effOut;
  const frac = halfPixelCenters ? ratio * (o + 0.5) : ratio * o;
  let index = Math.min(oldSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
  if (halfPixelCenters) index = Math.max(0, index);
  return index;
}

const resizeNearestNeighborGrad: KernelConfig = {
  kernelName: tfc.ResizeNearestNeighborGrad,
  backendName: 'cpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const cpu = backend as MathBackendCPU;
    const { images, dy } = inputs as { images: TensorInfo; dy: TensorInfo };
    const { alignCorners, halfPixelCenters } = attrs as unknown as ResizeAttrs;
    const [batch, inH, inW, depth] = images.shape;
    const [, outH, outW] = dy.shape;
    const dyValues = cpu.data.get(dy.dataId).values as Float32Array;
    const out = new Float32Array(batch * inH * inW * depth);
    const rows = Array.from({ length: outH }, (_, r) => sourceIndex(r, inH, outH, alignCorners, halfPixelCenters));
    const cols = Array.from({ length: outW }, (_, c) => sourceIndex(c, inW, outW, alignCorners, halfPixelCenters));
    for (let b = 0; b < batch; b++) {
      for (let r = 0; r < outH; r++) {
        const inRow = (b * inH + rows[r]) * inW;
        for (let c = 0; c < outW; c++) {
          const src = ((b * outH + r) * outW + c) * depth;
          const dst = (inRow + cols[c]) * depth;
          for (let d = 0; d < depth; d++) out[dst + d] += dyValues[src + d];
        }
      }
    }
    return cpu.makeTensorInfo([batch, inH, inW, depth], 'float32', out);
  },
};

interface BackpropFilterAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tfc.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode: 'floor' | 'round' | 'ceil' | null;
  filterShape: [number, number, number, number];
}

const stockBackpropFilter = tfc.getKernel(tfc.Conv2DBackpropFilter, 'cpu')?.kernelFunc;

const conv2DBackpropFilter: KernelConfig = {
  kernelName: tfc.Conv2DBackpropFilter,
  backendName: 'cpu',
  kernelFunc: (args) => {
    const { inputs, backend, attrs } = args;
    const a = attrs as unknown as BackpropFilterAttrs;
    if (a.dataFormat === 'NCHW' && stockBackpropFilter) return (stockBackpropFilter as KernelFunc)(args);
    const cpu = backend as MathBackendCPU;
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const info = tfc.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode ?? undefined, false, 'channelsLast',
    );
    const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth, filterHeight, filterWidth } = info;
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const xv = cpu.data.get(x.dataId).values as Float32Array;
    const dyv = cpu.data.get(dy.dataId).values as Float32Array;
    const acc = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
    for (let n = 0; n < batchSize; n++) {
      for (let oy = 0; oy < outHeight; oy++) {
        for (let ox = 0; ox < outWidth; ox++) {
          const dyOff = ((n * outHeight + oy) * outWidth + ox) * outChannels;
          for (let kh = 0; kh < filterHeight; kh++) {
            const iy = oy * strideHeight + kh - top;
            if (iy < 0 || iy >= inHeight) continue;
            for (let kw = 0; kw < filterWidth; kw++) {
              const ix = ox * strideWidth + kw - left;
              if (ix < 0 || ix >= inWidth) continue;
              const xOff = ((n * inHeight + iy) * inWidth + ix) * inChannels;
              const wOff = (kh * filterWidth + kw) * inChannels * outChannels;
              for (let c = 0; c < inChannels; c++) {
                const v = xv[xOff + c];
                if (v === 0) continue;
                const base = wOff + c * outChannels;
                for (let o = 0; o < outChannels; o++) acc[base + o] += v * dyv[dyOff + o];
              }
            }
          }
        }
      }
    }
    return cpu.makeTensorInfo(a.filterShape, 'float32', Float32Array.from(acc));
  },
};

/** Reverse: the stock kernel indexes element by element through a buffer (25 ms for one 128x128 RGB image, the
 * flip test's mirror); this one copies contiguous runs, one reversed axis at a time. */
const reverse: KernelConfig = {
  kernelName: tfc.Reverse,
  backendName: 'cpu',
  kernelFunc: (({ inputs, backend, attrs }) => {
    const cpu = backend as MathBackendCPU;
    const x = inputs.x as TensorInfo;
    const source = cpu.data.get(x.dataId).values as tfc.TypedArray;
    const dims = tfc.util.parseAxisParam((attrs as unknown as { dims: number | number[] }).dims, x.shape);
    if (x.dtype === 'string' || !ArrayBuffer.isView(source)) {
      throw new Error(`Reverse: ${x.dtype} tensors are not supported`);
    }
    // Each reversed axis writes a fresh array from the previous one; the input's own storage is never returned.
    let values: tfc.TypedArray = source;
    for (const axis of new Set(dims)) {
      const n = x.shape[axis];
      if (n <= 1) continue;
      const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
      const next = new (values.constructor as new (length: number) => tfc.TypedArray)(values.length);
      for (let o = 0; o < outer; o++) {
        const base = o * n * inner;
        for (let i = 0; i < n; i++) {
          const from = base + i * inner;
          next.set(values.subarray(from, from + inner), base + (n - 1 - i) * inner);
        }
      }
      values = next;
    }
    if (values === source) values = source.slice();
    return cpu.makeTensorInfo(x.shape, x.dtype, values);
  }) as KernelFunc,
};

for (const kernel of [resizeNearestNeighborGrad, conv2DBackpropFilter, reverse]) {
  tfc.unregisterKernel(kernel.kernelName, 'cpu');
  tfc.registerKernel(kernel);
}
