// Kernels that TensorFlow.js 4.22's `wasm` backend lacks (or has too slow) for training, composed from wasm kernels it has.
// Registered by the wasm loader in select.ts, before the backend is first used.
//
// Conv2DBackpropFilter (the gradient of a convolution in its filter; without it nothing trains on wasm):
//   dW[i, j, c, o] = sum over n, y, x of xPadded[n, i + s*y, j + s*x, c] * dy[n, y, x, o]
// i.e. one matrix product per filter tap: (tap's strided window of x, as [Ci, N*Ho*Wo]) . (dy as [N*Ho*Wo, Co]).
// x is padded, split into stride phases and made channel-major once, so each tap's window is a plain slice and
// already the left operand: wasm's matMul is fast (XNNPACK) only without transposes (~15x slower with transposeA),
// and its strided slice is ~7x slower than a plain one. A 1x1 stride-1 unpadded conv is a single product.
// Taps with few input channels (the 7x7 stem on RGB) are stacked into one im2col product instead of many thin ones.
//
// Conv2DBackpropInput: wasm's own kernel is a plain loop, ~10x slower than its (XNNPACK) forward convolution;
// the input gradient is the forward convolution of dy (dilated by the stride) with the flipped, transposed filter.
import * as tfc from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, Tensor, Tensor4D, TensorInfo } from '@tensorflow/tfjs-core';

type Pad = 'valid' | 'same' | number | tfc.backend_util.ExplicitPadding;

interface BackpropFilterAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode: 'floor' | 'round' | 'ceil' | null;
  filterShape: [number, number, number, number];
}

/** Below this many input channels, taps are stacked (im2col) into one product rather than one thin product each. */
const STACK_TAPS_BELOW_CHANNELS = 16;

function asTensor4d(info: TensorInfo, kernel: string, what: string): Tensor4D {
  if (!(info instanceof tfc.Tensor) || info.rank !== 4) {
    throw new Error(`wasm ${kernel}: input ${what} must be a rank-4 tensor, got shape [${info.shape.join(', ')}]`);
  }
  return info as Tensor as Tensor4D;
}

/** x: [N, H, W, Ci], dy: [N, Ho, Wo, Co] -> dW: [kh, kw, Ci, Co]. Call inside tidy. */
export function conv2dFilterGradient(x: Tensor4D, dy: Tensor4D, attrs: BackpropFilterAttrs): Tensor4D {
  const info = tfc.backend_util.computeConv2DInfo(
    x.shape, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode ?? undefined, false, 'channelsLast',
  );
  const { batchSize: n, inHeight, inWidth, inChannels: ci, outHeight: ho, outWidth: wo, outChannels: co } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  if (dy.shape[1] !== ho || dy.shape[2] !== wo || dy.shape[3] !== co || dy.shape[0] !== n) {
    throw new Error(`wasm Conv2DBackpropFilter: dy has shape [${dy.shape.join(', ')}], expected [${n}, ${ho}, ${wo}, ${co}]`);
  }
  const m = n * ho * wo;
  const dy2d = tfc.reshape(dy, [m, co]); // [N*Ho*Wo, Co]
  const { top, left } = info.padInfo;
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && top === 0 && left === 0 && ho === inHeight && wo === inWidth) {
    const xT = tfc.transpose(tfc.reshape(x, [m, ci])); // [Ci, N*H*W]
    return tfc.reshape(tfc.matMul(xT, dy2d), attrs.filterShape);
  }
  // Phase-split x so that every tap's strided window is a plain slice (wasm's strided slice is ~7x slower):
  // phases[(i % sh) * sw + (j % sw), c*N + n, y, x] = xPadded[n, sh*y + i % sh, sw*x + j % sw, c].
  const hh = Math.floor((kh - 1) / sh) + ho;
  const wh = Math.floor((kw - 1) / sw) + wo;
  const phases = tfc.reshape(phaseSplit(x, top, left, hh * sh, wh * sw, sh, sw), [sh * sw, ci * n, hh, wh]);
  const windows: Tensor[] = [];
  const products: Tensor[] = [];
  const stack = ci < STACK_TAPS_BELOW_CHANNELS;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const window = tfc.slice(phases, [(i % sh) * sw + (j % sw), 0, Math.floor(i / sh), Math.floor(j / sw)], [1, ci * n, ho, wo]);
      const cols = tfc.reshape(window, [ci, m]); // [Ci, N*Ho*Wo]
      if (stack) windows.push(cols);
      else products.push(tfc.matMul(cols, dy2d)); // [Ci, Co]
    }
  }
  const taps = stack ? tfc.matMul(tfc.concat(windows, 0), dy2d) : tfc.concat(products, 0); // [kh*kw*Ci, Co]
  return tfc.reshape(taps, attrs.filterShape);
}

/**
 * x [N, H, W, C] zero-padded (top, left, and at the far sides up to hp x wp; rows/columns beyond are dropped) and
 * split into stride phases: [sh, sw, C, N, hp/sh, wp/sw].
 */
function phaseSplit(x: Tensor4D, top: number, left: number, hp: number, wp: number, sh: number, sw: number): Tensor {
  const [n, h, w, c] = x.shape;
  const cropped = hp - top < h || wp - left < w ? tfc.slice(x, [0, 0, 0, 0], [n, Math.min(h, hp - top), Math.min(w, wp - left), c]) : x;
  const [, ch, cw] = cropped.shape;
  const xp = tfc.pad(cropped, [[0, 0], [top, hp - top - ch], [left, wp - left - cw], [0, 0]]); // [N, hp, wp, C]
  if (sh === 1 && sw === 1) return tfc.transpose(xp, [3, 0, 1, 2]); // [C, N, hp, wp]
  return tfc.transpose(tfc.reshape(xp, [n, hp / sh, sh, wp / sw, sw, c]), [2, 4, 5, 0, 1, 3]);
}

const conv2DBackpropFilter: KernelConfig = {
  kernelName: tfc.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs }) => {
    const a = attrs as unknown as BackpropFilterAttrs & NamedAttrMap;
    if (a.dataFormat === 'NCHW') throw new Error('wasm Conv2DBackpropFilter: only NHWC data is supported, got NCHW');
    const x = asTensor4d(inputs['x'] as TensorInfo, 'Conv2DBackpropFilter', 'x');
    const dy = asTensor4d(inputs['dy'] as TensorInfo, 'Conv2DBackpropFilter', 'dy');
    // A Tensor returned from a kernel is taken as it is by the engine (intermediates are freed by the tidy).
    return tfc.tidy(() => conv2dFilterGradient(x, dy, a));
  },
};

interface BackpropInputAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode: 'floor' | 'round' | 'ceil' | null;
  inputShape: [number, number, number, number];
}

/**
 * Input gradient as a stride-1 forward convolution: dx = conv(dy dilated by the stride (zeros between rows and
 * columns) and padded by k - 1 - pad, flip(W) with in/out swapped); null when the padding exceeds the filter
 * (the stock kernel then runs).
 */
export function conv2dInputGradient(dy: Tensor4D, filter: Tensor4D, attrs: BackpropInputAttrs): Tensor4D | null {
  const info = tfc.backend_util.computeConv2DInfo(
    attrs.inputShape, filter.shape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode ?? undefined, false, 'channelsLast',
  );
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, inHeight, inWidth, outHeight, outWidth } = info;
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  // The dilated dy is s*Ho long (s - 1 zeros after the last row); the padded one must be H + k - 1 long.
  const bottom = inHeight + kh - 1 - top - sh * outHeight;
  const right = inWidth + kw - 1 - left - sw * outWidth;
  if (top < 0 || left < 0 || bottom < 1 - sh || right < 1 - sw) return null;
  return tfc.tidy(() => {
    let d = dilate(dy, sh, sw); // [N, sh*Ho, sw*Wo, Co]
    if (bottom < 0 || right < 0) d = tfc.slice(d, [0, 0, 0, 0], [-1, sh * outHeight + Math.min(0, bottom), sw * outWidth + Math.min(0, right), -1]);
    const flipped = tfc.transpose(tfc.reverse(filter, [0, 1]), [0, 1, 3, 2]) as Tensor4D; // [kh, kw, Co, Ci]
    return tfc.conv2d(d, flipped, 1, [[0, 0], [top, Math.max(0, bottom)], [left, Math.max(0, right)], [0, 0]]); // [N, H, W, Ci]
  });
}

/** dy [N, Ho, Wo, C] -> [N, sh*Ho, sw*Wo, C] with dy[n, y, x] at (sh*y, sw*x) and zeros elsewhere. */
function dilate(dy: Tensor4D, sh: number, sw: number): Tensor4D {
  const [n, ho, wo, c] = dy.shape;
  let d: Tensor = dy;
  if (sh > 1) d = tfc.pad(tfc.reshape(d, [n * ho, 1, wo * c]), [[0, 0], [0, sh - 1], [0, 0]]); // [N*Ho, sh, Wo*C]
  if (sw > 1) d = tfc.pad(tfc.reshape(d, [n * ho * sh * wo, 1, c]), [[0, 0], [0, sw - 1], [0, 0]]); // [N*sh*Ho*Wo, sw, C]
  return tfc.reshape(d, [n, sh * ho, sw * wo, c]);
}

/** The stock wasm kernel, kept for paddings wider than the filter (captured when ours replaces it). */
let stockBackpropInput: KernelConfig | undefined;

const conv2DBackpropInput: KernelConfig = {
  kernelName: tfc.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const a = args.attrs as unknown as BackpropInputAttrs & NamedAttrMap;
    const dy = asTensor4d(args.inputs['dy'] as TensorInfo, 'Conv2DBackpropInput', 'dy');
    const filter = asTensor4d(args.inputs['filter'] as TensorInfo, 'Conv2DBackpropInput', 'filter');
    const dx = a.dataFormat === 'NCHW' ? null : conv2dInputGradient(dy, filter, a);
    if (dx) return dx;
    if (!stockBackpropInput) throw new Error('wasm Conv2DBackpropInput: this padding needs the stock wasm kernel, which is missing');
    return stockBackpropInput.kernelFunc(args);
  },
};

const KERNELS: readonly KernelConfig[] = [conv2DBackpropFilter, conv2DBackpropInput];
let registered = false;

/** Registers the wasm kernels above (replacing stock ones where they exist); idempotent. */
export function registerWasmFixes(): void {
  if (registered) return;
  registered = true;
  stockBackpropInput = tfc.getKernel(tfc.Conv2DBackpropInput, 'wasm');
  for (const kernel of KERNELS) {
    const stock = tfc.getKernel(kernel.kernelName, kernel.backendName);
    if (stock) tfc.unregisterKernel(kernel.kernelName, kernel.backendName);
    // The stock kernel's setup (binding its wasm function at backend start) must still run for the fallback.
    tfc.registerKernel({ ...kernel, setupFunc: stock?.setupFunc });
  }
}
