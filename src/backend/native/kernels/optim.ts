// The RMSprop update as one native kernel (native/src/optim.cc): new parameter and new mean-square slot in one
// pass, replacing ~10 element-wise kernels (and their engine overhead) per parameter per step.
import { tf } from '../../../tf.js';
import type { Tensor } from '../../../tf.js';
import type { NativeAddon } from '../addon.js';
import { alloc, f32, nativeKernel, output } from '../kernel-util.js';

export const RMSPROP_UPDATE = 'HourglassRmspropUpdate';

export function optimKernels(addon: NativeAddon): tf.KernelConfig[] {
  // Inputs {param, slot, grad} (one shape) -> [param', slot'].
  const rmsprop = nativeKernel(RMSPROP_UPDATE, ({ inputs, backend, attrs }) => {
    const p = f32(backend, inputs.param);
    const v = f32(backend, inputs.slot);
    const g = f32(backend, inputs.grad);
    if (!p || !v || !g || v.data.length !== p.data.length || g.data.length !== p.data.length) {
      throw new Error(`${RMSPROP_UPDATE}: param, slot and grad must be float32 tensors of one size`);
    }
    const { lr, alpha, epsilon } = attrs as { lr: number; alpha: number; epsilon: number };
    const pOut = alloc(p.data.length);
    const vOut = alloc(p.data.length);
    addon.rmsprop(p.data, v.data, g.data, pOut, vOut, lr, alpha, epsilon);
    return [output(backend, [...p.shape], pOut), output(backend, [...p.shape], vOut)];
  });
  return [rmsprop];
}

/**
 * One RMSprop step as in src/train/rmsprop.ts: slot' = alpha slot + (1 - alpha) g^2; param' = param - lr g / (sqrt(slot') + eps).
 * Returns [param', slot'] for the caller to assign. Native backend only.
 */
export function nativeRmspropUpdate(
  param: Tensor, slot: Tensor, grad: Tensor, lr: number, alpha: number, epsilon: number,
): [Tensor, Tensor] {
  const [p, v] = tf.engine().runKernel(RMSPROP_UPDATE, { param, slot, grad }, { lr, alpha, epsilon }) as Tensor[];
  return [p, v];
}
