// Element-wise kernels on the addon's OpenMP loops (native/src/elementwise.cc): ReLU and the unary ops the
// loss and optimiser use, binary ops with scalar or trailing-vector broadcasting, and AddN.
import { tf } from '../../../tf.js';
import type { NativeAddon } from '../addon.js';
import { alloc, f32, nativeKernel, output, sizeOf } from '../kernel-util.js';
import type { F32 } from '../kernel-util.js';

// Keep in sync with enum Unary / enum Binary in native/src/elementwise.cc.
const UNARY_OPS = { Relu: 0, Square: 1, Sqrt: 2, Neg: 3, Step: 4, Rsqrt: 5 } as const;
const BINARY_OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, SquaredDifference: 4, Maximum: 5 } as const;

/**
 * Whether `shape` broadcasts into `out` as one of the layouts the addon loops over: the same size, a scalar,
 * or the trailing dimensions of `out` (after dropping leading 1s), e.g. [C] or [1, 1, C] onto [N, H, W, C].
 */
export function simpleBroadcast(shape: readonly number[], out: readonly number[]): boolean {
  const size = sizeOf([...shape]);
  if (size === 1 || size === sizeOf([...out])) return true;
  let first = 0;
  while (first < shape.length && shape[first] === 1) first++;
  const tail = shape.slice(first);
  if (tail.length > out.length) return false;
  const outTail = out.slice(out.length - tail.length);
  return tail.every((d, i) => d === outTail[i]);
}

/** Element strides of `shape` read as a broadcast into `out` (right-aligned; 0 along broadcast dimensions). */
export function broadcastStrides(shape: readonly number[], out: readonly number[]): Int32Array {
  const strides = new Int32Array(out.length);
  let step = 1;
  for (let d = out.length - 1, s = shape.length - 1; d >= 0; d--, s--) {
    const dim = s >= 0 ? shape[s] : 1;
    strides[d] = dim === 1 ? 0 : step;
    step *= dim;
  }
  return strides;
}

export function elementwiseKernels(addon: NativeAddon): tf.KernelConfig[] {
  const unary = Object.entries(UNARY_OPS).map(([name, op]) =>
    nativeKernel(name, ({ inputs, backend, attrs }) => {
      const x = f32(backend, inputs.x);
      if (!x) return null;
      const alpha = name === 'Step' ? Number((attrs as { alpha?: number } | undefined)?.alpha ?? 0) : 0;
      const y = alloc(x.data.length);
      addon.unary(op, x.data, y, alpha);
      return output(backend, [...x.shape], y);
    }),
  );

  const binary = Object.entries(BINARY_OPS).map(([name, op]) =>
    nativeKernel(name, ({ inputs, backend }) => {
      const a = f32(backend, inputs.a);
      const b = f32(backend, inputs.b);
      if (!a || !b) return null;
      const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const out = alloc(sizeOf(outShape));
      if (simpleBroadcast(a.shape, outShape) && simpleBroadcast(b.shape, outShape)) {
        addon.binary(op, a.data, b.data, out);
      } else {
        if (outShape.length > 8) return null;
        const shape = Int32Array.from(outShape);
        addon.binaryStrided(op, a.data, b.data, out, shape, broadcastStrides(a.shape, outShape), broadcastStrides(b.shape, outShape));
      }
      return output(backend, outShape, out);
    }),
  );

  const addN = nativeKernel('AddN', ({ inputs, backend }) => {
    const list = Object.values(inputs).map((t) => f32(backend, t));
    if (list.length === 0 || list.some((t) => t === null)) return null;
    const tensors = list as F32[];
    const n = tensors[0].data.length;
    if (tensors.some((t) => t.data.length !== n)) return null;
    const out = alloc(n);
    addon.addN(tensors.map((t) => t.data), out);
    return output(backend, [...tensors[0].shape], out);
  });

  return [...unary, ...binary, addN];
}
