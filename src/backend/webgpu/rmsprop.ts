// The RMSprop update (src/train/rmsprop.ts, docs/method.md "Optimiser") as two WGSL programs on the webgpu backend:
// slot' and param' each in one dispatch over the tensor, replacing the portable composition's nine element-wise
// kernels per parameter tensor (~200 tensors a step: the dispatches are what a webgpu step spends its time on,
// docs/gpu.md). Same arithmetic, in the same order, as the portable ops of src/model/ops.ts.
import { tf } from '../../tf.js';
import type { Tensor } from '../../tf.js';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { registerModelOps } from '../../model/ops.js';

export const RMSPROP_UPDATE = 'HourglassRmspropUpdate';

interface WebgpuBackendLike {
  runWebGPUProgram(program: object, inputs: TensorInfo[], outputDtype: 'float32', uniforms: { type: 'float32'; data: number[] }[]): TensorInfo;
}

const WORKGROUP = 64;

/** A flat element-wise program over (param,) slot and grad (one shape) writing one output (tfjs-backend-webgpu's WebGPUProgram). */
function program(shape: readonly number[], which: 'slot' | 'param'): object {
  const size = shape.reduce((a, b) => a * b, 1);
  const slot = 'let v = getVByOutputIndex(index) * uniforms.alpha + (g * g) * uniforms.oneMinusAlpha;';
  const body = which === 'slot'
    ? `${slot}\n          setOutputAtIndex(index, v);`
    : `${slot}\n          setOutputAtIndex(index, getPByOutputIndex(index) - (g / (sqrt(v) + uniforms.epsilon)) * uniforms.lr);`;
  return {
    variableNames: which === 'slot' ? ['V', 'G'] : ['P', 'V', 'G'], // an unused input would be left out of the shader's layout
    uniforms: 'lr : f32, alpha : f32, oneMinusAlpha : f32, epsilon : f32,',
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    outputShape: [...shape],
    dispatchLayout: { x: shape.map((_, i) => i) },
    dispatch: [Math.ceil(size / WORKGROUP), 1, 1],
    shaderKey: `hourglassRmsprop_${which}`,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let g = getGByOutputIndex(index);
          ${body}
        }
      }
    `,
  };
}

const kernel: KernelConfig = {
  kernelName: RMSPROP_UPDATE,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { param, slot, grad } = inputs as unknown as { param: TensorInfo; slot: TensorInfo; grad: TensorInfo };
    const { lr, alpha, epsilon } = attrs as unknown as { lr: number; alpha: number; epsilon: number };
    const same = (t: TensorInfo) => t.dtype === 'float32' && t.shape.length === param.shape.length && t.shape.every((d, i) => d === param.shape[i]);
    if (!same(param) || !same(slot) || !same(grad)) throw new Error(`${RMSPROP_UPDATE}: param, slot and grad must be float32 tensors of one shape`);
    const gpu = backend as unknown as WebgpuBackendLike;
    const uniforms = [lr, alpha, 1 - alpha, epsilon].map((v) => ({ type: 'float32' as const, data: [v] }));
    return [
      gpu.runWebGPUProgram(program(param.shape, 'param'), [param, slot, grad], 'float32', uniforms),
      gpu.runWebGPUProgram(program(param.shape, 'slot'), [slot, grad], 'float32', uniforms),
    ];
  },
};

/** One RMSprop step on webgpu: [param', slot'] for the caller to assign (ModelOps.rmspropUpdate). */
export function webgpuRmspropUpdate(param: Tensor, slot: Tensor, grad: Tensor, lr: number, alpha: number, epsilon: number): [Tensor, Tensor] {
  const [p, v] = tf.engine().runKernel(RMSPROP_UPDATE, { param, slot, grad }, { lr, alpha, epsilon }) as Tensor[];
  return [p, v];
}

let registered = false;

/** Registers the kernel and makes it the webgpu backend's RMSprop (once). */
export function registerWebgpuRmsprop(): void {
  if (registered) return;
  tf.registerKernel(kernel);
  registerModelOps('webgpu', { rmspropUpdate: webgpuRmspropUpdate });
  registered = true;
}
