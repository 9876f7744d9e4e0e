// Kernels of tfjs-backend-webgpu 4.22 that the training step meets and that fail on a device with WebGPU's default
// limits, replaced for the `webgpu` backend. AddN binds every input as a storage buffer of one shader, so more than
// maxStorageBuffersPerShaderStage - 1 inputs (8 - 1 by default: the trainer sums one value per parameter, ~200)
// is a validation error and its output is garbage: here the inputs are summed in groups that fit, then the groups.
import { tf } from '../../tf.js';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

interface BackendWithDevice {
  readonly device: { readonly limits: { readonly maxStorageBuffersPerShaderStage: number } };
  disposeData(dataId: object): boolean;
}

/** How many inputs one AddN shader takes on `backend` (one storage buffer is the output). */
export function addNGroupSize(backend: BackendWithDevice): number {
  return Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1);
}

function groupedAddN(original: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as BackendWithDevice;
    const size = addNGroupSize(backend);
    let level = args.inputs as unknown as TensorInfo[];
    const made: TensorInfo[] = [];
    while (level.length > size) {
      const next: TensorInfo[] = [];
      for (let i = 0; i < level.length; i += size) {
        const group = level.slice(i, i + size);
        if (group.length === 1) {
          next.push(group[0]);
          continue;
        }
        const sum = original({ ...args, inputs: group as unknown as typeof args.inputs }) as TensorInfo;
        made.push(sum);
        next.push(sum);
      }
      level = next;
    }
    const result = original({ ...args, inputs: level as unknown as typeof args.inputs }) as TensorInfo;
    for (const t of made) backend.disposeData(t.dataId);
    return result;
  };
}

let registered = false;

/** Replaces the webgpu kernels above (once; after tfjs-backend-webgpu has registered its own). */
export function registerWebgpuFixes(backendName: string): void {
  if (registered) return;
  const addN = tf.getKernel('AddN', backendName);
  if (!addN) throw new Error(`tfjs-backend-webgpu registered no AddN kernel for ${backendName}`);
  tf.unregisterKernel('AddN', backendName);
  const config: KernelConfig = { kernelName: 'AddN', backendName, kernelFunc: groupedAddN(addN.kernelFunc) };
  tf.registerKernel(config);
  registered = true;
}
