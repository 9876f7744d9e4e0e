// relu(batchNorm(x)) in training mode as one kernel, and one fused backward that masks dy where the output was not
// positive, tested on x with the forward's own affine map (the output is not read): saves the separate ReLU pass
// forward and the Step + Multiply passes backward (native/src/batchnorm.cc).
import { tf } from '../../../tf.js';
import type { Tensor, Tensor1D, Tensor4D } from '../../../tf.js';
import type { BatchNormTrainResult } from '../../../model/ops.js';
import type { NativeAddon } from '../addon.js';
import { alloc, f32, int32, nativeKernel, output } from '../kernel-util.js';
import type { F32 } from '../kernel-util.js';

export const BATCH_NORM_RELU_TRAIN = 'HourglassBatchNormReluTrain';
export const BATCH_NORM_RELU_TRAIN_GRAD = 'HourglassBatchNormReluTrainGrad';

function perChannel(t: F32 | null, channels: number): t is F32 {
  return t !== null && t.data.length === channels && t.shape.length === 1;
}

export function batchNormReluKernels(addon: NativeAddon): tf.KernelConfig[] {
  // Inputs {x: [N,H,W,C], gamma, beta: [C]} -> [y = relu(bn(x)), mean, variance].
  const train = nativeKernel(BATCH_NORM_RELU_TRAIN, ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x);
    if (!x || x.shape.length !== 4) throw new Error(`${BATCH_NORM_RELU_TRAIN}: x must be a float32 NHWC tensor`);
    const c = x.shape[3];
    const gamma = f32(backend, inputs.gamma);
    const beta = f32(backend, inputs.beta);
    if (!perChannel(gamma, c) || !perChannel(beta, c)) throw new Error(`${BATCH_NORM_RELU_TRAIN}: gamma and beta must be float32 [${c}]`);
    const eps = (attrs as { epsilon: number }).epsilon;
    const y = alloc(x.data.length);
    const mean = alloc(c);
    const variance = alloc(c);
    addon.batchNormTrain(x.data, gamma.data, beta.data, y, mean, variance, int32(x.shape), eps, true);
    return [output(backend, [...x.shape], y), output(backend, [c], mean), output(backend, [c], variance)];
  });

  // Inputs {x, dy, gamma, beta, mean, variance} -> [dx, dgamma, dbeta].
  const trainGrad = nativeKernel(BATCH_NORM_RELU_TRAIN_GRAD, ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x);
    const dy = f32(backend, inputs.dy);
    if (!x || !dy || x.shape.length !== 4 || dy.data.length !== x.data.length) {
      throw new Error(`${BATCH_NORM_RELU_TRAIN_GRAD}: x and dy must be float32 NHWC tensors of one shape`);
    }
    const c = x.shape[3];
    const gamma = f32(backend, inputs.gamma);
    const beta = f32(backend, inputs.beta);
    const mean = f32(backend, inputs.mean);
    const variance = f32(backend, inputs.variance);
    if (!perChannel(gamma, c) || !perChannel(beta, c) || !perChannel(mean, c) || !perChannel(variance, c)) {
      throw new Error(`${BATCH_NORM_RELU_TRAIN_GRAD}: gamma, beta, mean and variance must be float32 [${c}]`);
    }
    const eps = (attrs as { epsilon: number }).epsilon;
    const dx = alloc(x.data.length);
    const dgamma = alloc(c);
    const dbeta = alloc(c);
    addon.batchNormGrad(x.data, dy.data, gamma.data, mean.data, variance.data, dx, dgamma, dbeta, int32(x.shape), eps, beta.data);
    return [output(backend, [...x.shape], dx), output(backend, [c], dgamma), output(backend, [c], dbeta)];
  });

  return [train, trainGrad];
}

export function registerBatchNormReluGradient(): void {
  if (tf.getGradient(BATCH_NORM_RELU_TRAIN) != null) return;
  tf.registerGradient({
    kernelName: BATCH_NORM_RELU_TRAIN,
    inputsToSave: ['x', 'gamma', 'beta'],
    // The statistics; y is not needed (the backward tests x * scale + shift > 0 as the forward did).
    outputsToSave: [false, true, true],
    gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs?: tf.NamedAttrMap) => {
      const dy = Array.isArray(dys) ? dys[0] : dys;
      const [x, gamma, beta, mean, variance] = saved;
      // Eager, not in the thunks: the tape tidies each thunk and would dispose the results it does not return.
      const [dx, dgamma, dbeta] = tf.engine().runKernel(
        BATCH_NORM_RELU_TRAIN_GRAD, { x, dy, gamma, beta, mean, variance }, attrs,
      ) as Tensor[];
      return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
    },
  });
}

/** relu(batchNormTrain(x)) for the native backend; mean and variance are those of x. x: [N, H, W, C]. */
export function nativeBatchNormReluTrain(x: Tensor4D, gamma: Tensor1D, beta: Tensor1D, epsilon: number): BatchNormTrainResult {
  const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_RELU_TRAIN, { x, gamma, beta }, { epsilon }) as Tensor[];
  return { y: y as Tensor4D, mean: mean as Tensor1D, variance: variance as Tensor1D };
}
