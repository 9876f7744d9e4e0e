// Conv2D, FusedConv2D (bias, optional ReLU), Conv2DBackpropInput and Conv2DBackpropFilter on oneDNN
// (native/src/conv.cc). NHWC float32 only; anything else goes to the cpu kernel.
import { tf } from '../../../tf.js';
import type { NativeAddon } from '../addon.js';
import { alloc, f32, int32, nativeKernel, output, sizeOf } from '../kernel-util.js';

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
    addon.conv2d(x.data, w.data, bias, y, convGeometry(info), activation === 'relu');
    return output(backend, info.outShape, y);
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

  return [conv2d, fusedConv2d, backpropInput, backpropFilter];
}
