// The heatmap loss (src/train/loss.ts) as one native kernel per stack, with a one-pass native backward
// (native/src/loss.cc): replaces squaredDifference, mul and mean forward, and their five gradient kernels (with a
// temporary of the heatmaps' size each) backward.
import { tf } from '../../../tf.js';
import type { Tensor, Tensor2D, Tensor4D } from '../../../tf.js';
import type { Scalar } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '../addon.js';
import { alloc, f32, int32, nativeKernel, output } from '../kernel-util.js';
import type { Backend, F32 } from '../kernel-util.js';

/** Inputs {pred, targets: [N, h, w, K], weights: [N, K]} -> the scalar mean of weights * (pred - targets)^2. */
export const HEATMAP_LOSS = 'HourglassHeatmapLoss';
/** Inputs {pred, targets, weights, dy: []} -> d loss / d pred, [N, h, w, K]. */
export const HEATMAP_LOSS_GRAD = 'HourglassHeatmapLossGrad';

interface LossInputs {
  pred: F32;
  targets: F32;
  weights: F32;
}

/**
 * Float32 data of a float32 tensor, copied out when held in another array: the cpu backend's Cast from int32 keeps
 * the Int32Array (no precision is lost), so cast integer masks arrive that way.
 */
function floatData(backend: Backend, t: tf.TensorInfo | undefined): F32 | null {
  if (t == null || t.dtype !== 'float32') return null;
  const own = f32(backend, t);
  if (own) return own;
  const values = backend.data.get(t.dataId)?.values;
  return ArrayBuffer.isView(values) ? { info: t, shape: t.shape, data: Float32Array.from(values as Int32Array) } : null;
}

function lossInputs(backend: Backend, inputs: tf.NamedTensorInfoMap, kernel: string): LossInputs {
  const pred = floatData(backend, inputs.pred);
  const targets = floatData(backend, inputs.targets);
  const weights = floatData(backend, inputs.weights);
  if (!pred || !targets || pred.shape.length !== 4 || !tf.util.arraysEqual(pred.shape, targets.shape)) {
    throw new Error(`${kernel}: pred and targets must be float32 [N, h, w, K] tensors of one shape`);
  }
  const [n, , , k] = pred.shape;
  if (!weights || !tf.util.arraysEqual(weights.shape, [n, k])) throw new Error(`${kernel}: weights must be float32 [${n}, ${k}]`);
  return { pred, targets, weights };
}

export function lossKernels(addon: NativeAddon): tf.KernelConfig[] {
  const loss = nativeKernel(HEATMAP_LOSS, ({ inputs, backend }) => {
    const { pred, targets, weights } = lossInputs(backend, inputs, HEATMAP_LOSS);
    const out = new Float32Array(1);
    addon.heatmapLoss(pred.data, targets.data, weights.data, out, int32(pred.shape));
    return output(backend, [], out);
  });

  const grad = nativeKernel(HEATMAP_LOSS_GRAD, ({ inputs, backend }) => {
    const { pred, targets, weights } = lossInputs(backend, inputs, HEATMAP_LOSS_GRAD);
    const dy = f32(backend, inputs.dy);
    if (!dy || dy.data.length !== 1) throw new Error(`${HEATMAP_LOSS_GRAD}: dy must be a float32 scalar`);
    const dpred = alloc(pred.data.length);
    addon.heatmapLossGrad(pred.data, targets.data, weights.data, dpred, int32(pred.shape), (2 * dy.data[0]) / pred.data.length);
    return output(backend, [...pred.shape], dpred);
  });

  return [loss, grad];
}

/**
 * The gradient of HEATMAP_LOSS. The prediction's comes from the native backward (computed at once, as the other
 * native gradients: the tape tidies each thunk). The targets' and weights' are exact too but lazy: the tape only
 * calls the thunks of inputs on the path to what is differentiated, and in training neither is (they are data).
 */
export function registerHeatmapLossGradient(): void {
  if (tf.getGradient(HEATMAP_LOSS) != null) return;
  tf.registerGradient({
    kernelName: HEATMAP_LOSS,
    inputsToSave: ['pred', 'targets', 'weights'],
    gradFunc: (dys: Tensor | Tensor[], saved: Tensor[]) => {
      const dy = Array.isArray(dys) ? dys[0] : dys;
      const [pred, targets, weights] = saved;
      const dpred = tf.engine().runKernel(HEATMAP_LOSS_GRAD, { pred, targets, weights, dy }) as Tensor;
      return {
        pred: () => dpred,
        targets: () => tf.neg(dpred),
        // d/dw[n,k] = dy / (N h w K) * sum over y, x of (pred - target)^2.
        weights: () => tf.mul(tf.sum(tf.squaredDifference(pred, targets), [1, 2]), tf.div(dy, pred.size)),
      };
    },
  });
}

/**
 * ModelOps.heatmapLoss for the native backend: one fused kernel per stack (its backward one more), summed over
 * stacks. Targets and weights of another dtype are cast to float32 first.
 */
export function nativeHeatmapLoss(outputs: readonly Tensor4D[], targets: Tensor4D, weights: Tensor2D): Scalar {
  return tf.tidy(() => {
    const t = targets.dtype === 'float32' ? targets : tf.cast(targets, 'float32');
    const w = weights.dtype === 'float32' ? weights : tf.cast(weights, 'float32');
    const perStack = outputs.map((pred) => tf.engine().runKernel(HEATMAP_LOSS, { pred, targets: t, weights: w }) as Scalar);
    return (perStack.length === 1 ? perStack[0] : tf.addN(perStack)) as Scalar;
  });
}
