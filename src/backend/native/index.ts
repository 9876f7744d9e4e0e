// The `native` TensorFlow.js backend: MathBackendCPU (tensors are plain typed arrays) with every cpu kernel
// re-registered under the name `native`, then the hot ones replaced by oneDNN / OpenMP kernels from the addon.
// Reusing the cpu backend keeps every other op working and lets native kernels read tensors' arrays in place.
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { tf } from '../../tf.js';
import { registerModelOps } from '../../model/ops.js';
import { registerInferenceExecutor } from '../../model/model.js';
import { loadAddon } from './addon.js';
import { memoryPool } from './memory-pool.js';
import type { NativeAddon, NativeInfo } from './addon.js';
import {
  batchNormKernels, nativeBatchNormInfer, nativeBatchNormTrain, nativeUpdateRunningStats, registerBatchNormGradient,
} from './kernels/batchnorm.js';
import { batchNormReluKernels, nativeBatchNormReluTrain, registerBatchNormReluGradient } from './kernels/batchnorm-relu.js';
import { convKernels, nativeConv2d, registerConvGradient } from './kernels/conv.js';
import { nativeRmspropUpdate, optimKernels } from './kernels/optim.js';
import { elementwiseKernels } from './kernels/elementwise.js';
import { poolKernels } from './kernels/pool.js';
import { reduceKernels } from './kernels/reduce.js';
import { NativeInference } from './infer.js';

export const NATIVE_BACKEND = 'native';
export type { NativeInfo } from './addon.js';
export { nativeKernelCalls } from './kernel-util.js';
export { nativeBatchNormReluTrain } from './kernels/batchnorm-relu.js';
export { nativeRmspropUpdate } from './kernels/optim.js';
export { nativeConv2d } from './kernels/conv.js';
export { nativeBatchNormInfer } from './kernels/batchnorm.js';
export { NativeInference, nativeInferenceStats, setNativeInference } from './infer.js';

type DataId = ReturnType<MathBackendCPU['write']>;

/**
 * The cpu backend, telling the memory pool when tensor storage is registered, read out and released, so the
 * next kernel output of the same size reuses memory already paged in (see memory-pool.ts).
 */
class NativeBackend extends MathBackendCPU {
  override write(...args: Parameters<MathBackendCPU['write']>): DataId {
    memoryPool.registered(args[0]);
    return super.write(...args);
  }

  override move(...args: Parameters<MathBackendCPU['move']>): void {
    memoryPool.registered(args[1]);
    super.move(...args);
  }

  override readSync(dataId: DataId): ReturnType<MathBackendCPU['readSync']> {
    const values = super.readSync(dataId);
    memoryPool.exposed(values);
    return values;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const released = super.disposeData(dataId, force);
    if (values !== undefined && !this.data.has(dataId)) memoryPool.released(values);
    return released;
  }
}

/** Priority 0: never picked implicitly; src/backend/select.ts chooses it with tf.setBackend('native'). */
const PRIORITY = 0;

function nativeKernels(addon: NativeAddon): tf.KernelConfig[] {
  return [
    ...convKernels(addon),
    ...batchNormKernels(addon),
    ...elementwiseKernels(addon),
    ...poolKernels(addon),
    ...reduceKernels(addon),
    ...batchNormReluKernels(addon),
    ...optimKernels(addon),
  ];
}

function register(addon: NativeAddon): void {
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(), PRIORITY);
  for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: NATIVE_BACKEND });
  for (const k of nativeKernels(addon)) {
    if (tf.getKernel(k.kernelName, NATIVE_BACKEND) != null) tf.unregisterKernel(k.kernelName, NATIVE_BACKEND);
    tf.registerKernel(k);
  }
  registerBatchNormGradient();
  registerBatchNormReluGradient();
  registerConvGradient();
  registerModelOps(NATIVE_BACKEND, {
    batchNormTrain: nativeBatchNormTrain,
    batchNormReluTrain: nativeBatchNormReluTrain,
    rmspropUpdate: nativeRmspropUpdate,
    conv2d: nativeConv2d,
    batchNormInfer: nativeBatchNormInfer,
    updateRunningStats: nativeUpdateRunningStats,
  });
  registerInferenceExecutor(NATIVE_BACKEND, (network, params) => new NativeInference(addon, network, params));
}

let result: { ok: true } | { ok: false; reason: string } | null = null;

/** Loads the addon and registers the `native` backend; safe to call many times. Does not activate it. */
export async function loadNativeBackend(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (result) return result;
  const load = loadAddon();
  if (!load.ok) {
    result = { ok: false, reason: load.reason };
  } else {
    try {
      load.addon.info(); // fails early if oneDNN cannot create its engine
      register(load.addon);
      result = { ok: true };
    } catch (err) {
      result = { ok: false, reason: `native backend failed to register: ${(err as Error).message}` };
    }
  }
  return result;
}

/** oneDNN version, thread count and ISA of the loaded addon, or null when it is not loaded. */
export function nativeInfo(): NativeInfo | null {
  const load = loadAddon();
  return load.ok ? load.addon.info() : null;
}
