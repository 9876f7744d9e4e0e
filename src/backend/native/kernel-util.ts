// Helpers shared by the native kernels: typed-array access to a tensor's own data, output allocation, and
// the fallback to the JS `cpu` kernel when an input is outside what the addon handles (dtype, layout, broadcast).
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { tf } from '../../tf.js';
import { memoryPool } from './memory-pool.js';

export type Backend = MathBackendCPU;
export type TensorInfo = tf.TensorInfo;
export type KernelResult = TensorInfo | TensorInfo[];
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: Backend;
  attrs?: tf.NamedAttrMap;
}
/** A native kernel body: its result, or null to hand the call to the `cpu` kernel of the same name. */
export type NativeKernelFunc = (args: KernelArgs) => KernelResult | null;

/** A float32 input: its TensorInfo and its own Float32Array (no copy). */
export interface F32 {
  readonly info: TensorInfo;
  readonly shape: number[];
  readonly data: Float32Array;
}

/** The input as F32, or null if it is absent or not float32 data held as a Float32Array. */
export function f32(backend: Backend, t: TensorInfo | undefined | null): F32 | null {
  if (t == null || t.dtype !== 'float32') return null;
  const values = backend.data.get(t.dataId)?.values;
  return values instanceof Float32Array ? { info: t, shape: t.shape, data: values } : null;
}

/** Uninitialised float storage, recycled from disposed tensors when possible (the addon writes every element). */
export function alloc(size: number): Float32Array {
  return memoryPool.alloc(size);
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function output(backend: Backend, shape: number[], values: Float32Array): TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', values);
}

export function int32(values: readonly number[]): Int32Array {
  return Int32Array.from(values);
}

const nativeCalls = new Map<string, number>();

/** How many times each kernel ran natively (not handed to cpu) since start: lets tests catch silent fallbacks. */
export function nativeKernelCalls(kernelName: string): number {
  return nativeCalls.get(kernelName) ?? 0;
}

const cpuKernels = new Map<string, tf.KernelFunc>();

function cpuKernel(name: string): tf.KernelFunc {
  let k = cpuKernels.get(name);
  if (!k) {
    const config = tf.getKernel(name, 'cpu');
    if (!config) throw new Error(`native backend: no cpu kernel '${name}' to fall back to`);
    k = config.kernelFunc;
    cpuKernels.set(name, k);
  }
  return k;
}

/** Wraps a native body as a kernel of the `native` backend, falling back to the cpu kernel when it returns null. */
export function nativeKernel(kernelName: string, body: NativeKernelFunc): tf.KernelConfig {
  const kernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): KernelResult => {
    const nativeArgs = args as KernelArgs;
    const result = body(nativeArgs);
    if (result !== null) {
      nativeCalls.set(kernelName, (nativeCalls.get(kernelName) ?? 0) + 1);
      return result;
    }
    return cpuKernel(kernelName)(args as Parameters<tf.KernelFunc>[0]) as KernelResult;
  };
  return { kernelName, backendName: 'native', kernelFunc: kernelFunc as tf.KernelFunc };
}
