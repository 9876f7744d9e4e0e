// Conv2D, FusedConv2D (bias, optional ReLU), Conv2DBackpropInput and Conv2DBackpropFilter on oneDNN
// (native/src/conv.cc). NHWC float32 only; anything else goes to the cpu kernel. Plus the model's convolution
// op (ModelOps.conv2d) with its own gradient: filter and bias gradients in one pass, the input gradient only
// when the tape asks for it (never for the image).
import { tf } from '../../../tf.js';
import type { Tensor, Tensor1D, Tensor4D } from '../../../tf.js';
import type { NativeAddon } from '../addon.js';
import { alloc, f32, int32, nativeKernel, output, sizeOf } from '../kernel-util.js';
import type { Backend, KernelResult, TensorInfo } from '../kernel-util.js';

/** The model's convolution (x, filter, bias) -> y, and its fused filter + bias backward (x, dy) -> [dfilter, dbias]. */
export const CONV2D_BIAS = 'HourglassConv2D';
export const CONV2D_BACKPROP_FILTER_BIAS = 'HourglassConv2DBackpropFilterBias';

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

interface ConvAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function isNhwc(attrs: ConvAttrs): boolean {
  return attrs.dataFormat === undefined || attrs.dataFormat === 'NHWC';
}

function convInfo(xShape: number[], filterShape: number[], attrs: ConvAttrs): Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/**
 * Bottom/right padding the output actually reaches. TF.js keeps a symmetric numeric pad even where the last
 * window stops short of it (e.g. 32 rows, 7x7, stride 2, pad 3: 2 rows used, 3 declared); oneDNN's backward
 * kernels take the declared value literally and go wrong, so declare only what is used (never below 0).
 */
function usedPadding(inSize: number, outSize: number, filter: number, stride: number, dilation: number, before: number, after: number): number {
  const reach = (outSize - 1) * stride + (filter - 1) * dilation + 1 - inSize - before;
  return Math.max(0, Math.min(after, reach));
}

/** The Int32Array geometry native/src/conv.cc reads (struct ConvGeometry), in its order. */
export function convGeometry(c: Conv2DInfo): Int32Array {
  const { top, left, bottom, right } = c.padInfo;
  return int32([
    c.batchSize, c.inHeight, c.inWidth, c.inChannels,
    c.filterHeight, c.filterWidth, c.outChannels, c.outHeight, c.outWidth,
    c.strideHeight, c.strideWidth, c.dilationHeight, c.dilationWidth,
    top, left,
    usedPadding(c.inHeight, c.outHeight, c.filterHeight, c.strideHeight, c.dilationHeight, top, bottom),
    usedPadding(c.inWidth, c.outWidth, c.filterWidth, c.strideWidth, c.dilationWidth, left, right),
  ]);
}

/** y = act(conv(x, filter) + bias) natively, or null where the addon does not apply (non-float32, NCHW, odd bias). */
function forward(
  addon: NativeAddon, backend: Backend, inputs: tf.NamedTensorInfoMap, a: ConvAttrs, relu: boolean,
): KernelResult | null {
  const x = f32(backend, inputs.x);
  const w = f32(backend, inputs.filter);
  if (!x || !w || !isNhwc(a)) return null;
  const info = convInfo(x.shape, w.shape, a);
  let bias: Float32Array | null = null;
  if (inputs.bias != null) {
    // Only a per-output-channel vector maps onto oneDNN's bias; scalars and odd shapes fall back.
    const b = f32(backend, inputs.bias);
    if (!b || b.shape.length !== 1 || b.shape[0] !== info.outChannels) return null;
    bias = b.data;
  }
  const y = alloc(sizeOf(info.outShape));
  addon.conv2d(x.data, w.data, bias, y, convGeometry(info), relu);
  return output(backend, info.outShape, y);
}

export function convKernels(addon: NativeAddon): tf.KernelConfig[] {
  const conv2d = nativeKernel('Conv2D', ({ inputs, backend, attrs }) => {
    const a = attrs as unknown as ConvAttrs;
    const x = f32(backend, inputs.x);
    const w = f32(backend, inputs.filter);
    if (!x || !w || !isNhwc(a)) return null;
    const info = convInfo(x.shape, w.shape, a);
    const y = alloc(sizeOf(info.outShape));
    addon.conv2d(x.data, w.data, null, y, convGeometry(info), false);
    return output(backend, info.outShape, y);
  });

  const fusedConv2d = nativeKernel('FusedConv2D', ({ inputs, backend, attrs }) => {
    const a = attrs as unknown as ConvAttrs & { activation?: string };
    const activation = a.activation ?? 'linear';
    if (activation !== 'linear' && activation !== 'relu') return null;
    if (inputs.preluActivationWeights != null) return null;
    return forward(addon, backend, inputs, a, activation === 'relu');
  });

  const convBias = nativeKernel(CONV2D_BIAS, ({ inputs, backend, attrs }) => {
    const result = forward(addon, backend, inputs, attrs as unknown as ConvAttrs, false);
    if (result === null) throw new Error(`${CONV2D_BIAS}: x, filter and bias must be float32 (NHWC, bias [outChannels])`);
    return result;
  });

  const backpropFilterBias = nativeKernel(CONV2D_BACKPROP_FILTER_BIAS, ({ inputs, backend, attrs }) => {
    const a = attrs as unknown as ConvAttrs & { filterShape: number[] };
    const x = f32(backend, inputs.x);
    const dy = f32(backend, inputs.dy);
    if (!x || !dy) throw new Error(`${CONV2D_BACKPROP_FILTER_BIAS}: x and dy must be float32`);
    const info = convInfo(x.shape, a.filterShape, a);
    const dw = alloc(sizeOf(a.filterShape));
    const db = alloc(info.outChannels);
    addon.conv2dBackpropFilter(x.data, dy.data, dw, convGeometry(info), db);
    return [output(backend, [...a.filterShape], dw), output(backend, [info.outChannels], db)] as TensorInfo[];
  });

  const backpropInput = nativeKernel('Conv2DBackpropInput', ({ inputs, backend, attrs }) => {
    const a = attrs as unknown as ConvAttrs & { inputShape: number[] };
    const dy = f32(backend, inputs.dy);
    const w = f32(backend, inputs.filter);
    if (!dy || !w || !isNhwc(a)) return null;
    const info = convInfo(a.inputShape, w.shape, { ...a, dilations: 1 });
    const dx = alloc(sizeOf(a.inputShape));
    addon.conv2dBackpropInput(dy.data, w.data, dx, convGeometry(info));
    return output(backend, [...a.inputShape], dx);
  });

  const backpropFilter = nativeKernel('Conv2DBackpropFilter', ({ inputs, backend, attrs }) => {
    const a = attrs as unknown as ConvAttrs & { filterShape: number[] };
    const x = f32(backend, inputs.x);
    const dy = f32(backend, inputs.dy);
    if (!x || !dy || !isNhwc(a)) return null;
    const info = convInfo(x.shape, a.filterShape, { ...a, dilations: 1 });
    const dw = alloc(sizeOf(a.filterShape));
    addon.conv2dBackpropFilter(x.data, dy.data, dw, convGeometry(info));
    return output(backend, [...a.filterShape], dw);
  });

  return [conv2d, fusedConv2d, backpropInput, backpropFilter, convBias, backpropFilterBias];
}

export function registerConvGradient(): void {
  if (tf.getGradient(CONV2D_BIAS) != null) return;
  tf.registerGradient({
    kernelName: CONV2D_BIAS,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs?: tf.NamedAttrMap) => {
      const dy = Array.isArray(dys) ? dys[0] : dys;
      const [x, filter] = saved;
      const { strides, pad } = attrs as unknown as { strides: number; pad: ConvAttrs['pad'] };
      // Eager, not in the thunks: the tape tidies each thunk and would dispose the result it does not return.
      const [dw, db] = tf.engine().runKernel(
        CONV2D_BACKPROP_FILTER_BIAS, { x, dy }, { strides, pad, filterShape: filter.shape },
      ) as Tensor[];
      return {
        // Lazy: the tape calls it only when x leads to a variable (not for the image the stem convolves).
        x: () => tf.engine().runKernel(
          'Conv2DBackpropInput', { dy, filter }, { strides, pad, dataFormat: 'NHWC', inputShape: x.shape },
        ) as Tensor,
        filter: () => dw,
        bias: () => db,
      };
    },
  });
}

/** ModelOps.conv2d for the native backend: conv(x, filter) + bias with the fused backward above. x: [N, H, W, C]. */
export function nativeConv2d(x: Tensor4D, filter: Tensor4D, bias: Tensor1D, strides: number, pad: 'valid' | 'same' | number): Tensor4D {
  return tf.engine().runKernel(CONV2D_BIAS, { x, filter, bias }, { strides, pad }) as Tensor4D;
}
