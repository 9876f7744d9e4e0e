// Batch normalisation on the addon's loops (native/src/batchnorm.cc): FusedBatchNorm (inference, given statistics), and the
// training op the model calls through ops().batchNormTrain, a custom kernel with its fused backward as gradient.
import { tf } from '../../../tf.js';
import type { Tensor, Tensor1D, Tensor4D } from '../../../tf.js';
import type { BatchNormTrainResult } from '../../../model/ops.js';
import type { NativeAddon } from '../addon.js';
import { alloc, f32, int32, nativeKernel, output } from '../kernel-util.js';
import type { F32 } from '../kernel-util.js';

/** Kernel names of the training op and its backward (registered for the `native` backend only). */
export const BATCH_NORM_TRAIN = 'HourglassBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'HourglassBatchNormTrainGrad';
/** Inference batch norm with running statistics and optional fused ReLU (no gradient: inference only). */
export const BATCH_NORM_INFER = 'HourglassBatchNormInfer';
/** The running-statistics update in one kernel (a loop over C in JS: cheaper than five tiny kernels). */
export const RUNNING_STATS = 'HourglassRunningStats';

function perChannel(t: F32 | null, channels: number): t is F32 {
  return t !== null && t.data.length === channels && t.shape.length === 1;
}

export function batchNormKernels(addon: NativeAddon): tf.KernelConfig[] {
  // FusedBatchNorm: y = offset + (x - mean) * scale / sqrt(variance + eps); native for NHWC with [C] parameters.
  const inference = nativeKernel('FusedBatchNorm', ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x);
    if (!x || x.shape.length !== 4) return null;
    const c = x.shape[3];
    const mean = f32(backend, inputs.mean);
    const variance = f32(backend, inputs.variance);
    if (!perChannel(mean, c) || !perChannel(variance, c)) return null;
    const scale = inputs.scale == null ? null : f32(backend, inputs.scale);
    const offset = inputs.offset == null ? null : f32(backend, inputs.offset);
    if ((inputs.scale != null && !perChannel(scale, c)) || (inputs.offset != null && !perChannel(offset, c))) return null;
    const eps = (attrs as { varianceEpsilon?: number } | undefined)?.varianceEpsilon ?? 0.001;
    const y = alloc(x.data.length);
    addon.batchNormInfer(
      x.data, mean.data, variance.data,
      scale?.data ?? new Float32Array(c).fill(1), offset?.data ?? new Float32Array(c),
      y, int32(x.shape), eps,
    );
    return output(backend, [...x.shape], y);
  });

  // Inputs {x: [N,H,W,C], mean, variance, gamma, beta: [C]}, attrs {epsilon, relu} -> y.
  const infer = nativeKernel(BATCH_NORM_INFER, ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x);
    if (!x || x.shape.length !== 4) throw new Error(`${BATCH_NORM_INFER}: x must be a float32 NHWC tensor`);
    const c = x.shape[3];
    const [mean, variance, gamma, beta] = [inputs.mean, inputs.variance, inputs.gamma, inputs.beta].map((t) => f32(backend, t));
    if (!perChannel(mean, c) || !perChannel(variance, c) || !perChannel(gamma, c) || !perChannel(beta, c)) {
      throw new Error(`${BATCH_NORM_INFER}: mean, variance, gamma and beta must be float32 [${c}]`);
    }
    const { epsilon, relu } = attrs as { epsilon: number; relu: boolean };
    const y = alloc(x.data.length);
    addon.batchNormInfer(x.data, mean.data, variance.data, gamma.data, beta.data, y, int32(x.shape), epsilon, relu);
    return output(backend, [...x.shape], y);
  });

  // Inputs {x: [N,H,W,C], gamma: [C], beta: [C]} -> [y, mean, variance (biased)].
  const train = nativeKernel(BATCH_NORM_TRAIN, ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x);
    if (!x || x.shape.length !== 4) throw new Error(`${BATCH_NORM_TRAIN}: x must be a float32 NHWC tensor`);
    const c = x.shape[3];
    const gamma = f32(backend, inputs.gamma);
    const beta = f32(backend, inputs.beta);
    if (!perChannel(gamma, c) || !perChannel(beta, c)) throw new Error(`${BATCH_NORM_TRAIN}: gamma and beta must be float32 [${c}]`);
    const eps = (attrs as { epsilon: number }).epsilon;
    const y = alloc(x.data.length);
    const mean = alloc(c);
    const variance = alloc(c);
    addon.batchNormTrain(x.data, gamma.data, beta.data, y, mean, variance, int32(x.shape), eps, false);
    return [output(backend, [...x.shape], y), output(backend, [c], mean), output(backend, [c], variance)];
  });

  // Inputs {x, dy, gamma, mean, variance} -> [dx, dgamma, dbeta].
  const trainGrad = nativeKernel(BATCH_NORM_TRAIN_GRAD, ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x);
    const dy = f32(backend, inputs.dy);
    if (!x || !dy || x.shape.length !== 4 || dy.data.length !== x.data.length) {
      throw new Error(`${BATCH_NORM_TRAIN_GRAD}: x and dy must be float32 NHWC tensors of one shape`);
    }
    const c = x.shape[3];
    const gamma = f32(backend, inputs.gamma);
    const mean = f32(backend, inputs.mean);
    const variance = f32(backend, inputs.variance);
    if (!perChannel(gamma, c) || !perChannel(mean, c) || !perChannel(variance, c)) {
      throw new Error(`${BATCH_NORM_TRAIN_GRAD}: gamma, mean and variance must be float32 [${c}]`);
    }
    const eps = (attrs as { epsilon: number }).epsilon;
    const dx = alloc(x.data.length);
    const dgamma = alloc(c);
    const dbeta = alloc(c);
    addon.batchNormGrad(x.data, dy.data, gamma.data, mean.data, variance.data, dx, dgamma, dbeta, int32(x.shape), eps, null);
    return [output(backend, [...x.shape], dx), output(backend, [c], dgamma), output(backend, [c], dbeta)];
  });

  // Inputs {runningMean, runningVar, mean, variance: [C]}, attrs {momentum, count} -> [mean', variance'].
  // Rounds to float32 after each operation, as the composed TF.js ops do, so the result is bit-identical.
  const runningStats = nativeKernel(RUNNING_STATS, ({ inputs, backend, attrs }) => {
    const [rm, rv, m, v] = [inputs.runningMean, inputs.runningVar, inputs.mean, inputs.variance].map((t) => f32(backend, t));
    const c = rm?.data.length ?? 0;
    if (!perChannel(rm, c) || !perChannel(rv, c) || !perChannel(m, c) || !perChannel(v, c)) {
      throw new Error(`${RUNNING_STATS}: all inputs must be float32 [C]`);
    }
    const { momentum, count } = attrs as { momentum: number; count: number };
    const f = Math.fround;
    const keep = f(1 - momentum);
    const take = f(momentum);
    const unbias = f(count / (count - 1));
    const mean = new Float32Array(c);
    const variance = new Float32Array(c);
    for (let j = 0; j < c; j++) {
      mean[j] = f(f(rm.data[j] * keep) + f(m.data[j] * take));
      const u = count > 1 ? f(v.data[j] * unbias) : v.data[j];
      variance[j] = f(f(rv.data[j] * keep) + f(u * take));
    }
    return [output(backend, [c], mean), output(backend, [c], variance)];
  });

  return [inference, infer, train, trainGrad, runningStats];
}

/** The gradient of BATCH_NORM_TRAIN: one fused backward for x, gamma and beta; the statistics get none. */
export function registerBatchNormGradient(): void {
  if (tf.getGradient(BATCH_NORM_TRAIN) != null) return;
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAIN,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs?: tf.NamedAttrMap) => {
      const dy = Array.isArray(dys) ? dys[0] : dys;
      const [x, gamma, mean, variance] = saved;
      // One backward call serves all three inputs. It runs here, not lazily in a thunk: the tape wraps each
      // thunk in its own tidy, which would dispose the two results that thunk does not return.
      const [dx, dgamma, dbeta] = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { x, dy, gamma, mean, variance }, attrs) as Tensor[];
      return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
    },
  });
}

/** ModelOps.batchNormTrain for the native backend. x: [N, H, W, C]; gamma, beta: [C]. */
export function nativeBatchNormTrain(x: Tensor4D, gamma: Tensor1D, beta: Tensor1D, epsilon: number): BatchNormTrainResult {
  const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x, gamma, beta }, { epsilon }) as Tensor[];
  return { y: y as Tensor4D, mean: mean as Tensor1D, variance: variance as Tensor1D };
}

/** ModelOps.batchNormInfer for the native backend: one pass, ReLU fused. x: [N, H, W, C]; the rest [C]. */
export function nativeBatchNormInfer(
  x: Tensor4D, mean: Tensor1D, variance: Tensor1D, gamma: Tensor1D, beta: Tensor1D, epsilon: number, relu: boolean,
): Tensor4D {
  return tf.engine().runKernel(BATCH_NORM_INFER, { x, mean, variance, gamma, beta }, { epsilon, relu }) as Tensor4D;
}

/** ModelOps.updateRunningStats for the native backend (bit-identical to the portable composition). */
export function nativeUpdateRunningStats(
  runningMean: Tensor1D, runningVar: Tensor1D, mean: Tensor1D, variance: Tensor1D, momentum: number, count: number,
): [Tensor1D, Tensor1D] {
  const [m, v] = tf.engine().runKernel(RUNNING_STATS, { runningMean, runningVar, mean, variance }, { momentum, count }) as Tensor[];
  return [m as Tensor1D, v as Tensor1D];
}
