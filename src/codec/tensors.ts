// The tensor side of the heatmap codec: decoding a batch of predicted heatmaps and the left-right flip used by the
// flip test (docs/method.md "Inference and evaluation").
import { tf } from '../tf.js';
import type { Tensor4D } from '../tf.js';
import { InvalidArgumentError } from '../errors.js';
import type { DecodedJoints, HeatmapCodec } from './heatmap.js';

/** Decodes a batch of heatmaps [N, H, W, K] (the tensor is not disposed). */
export async function decodeBatch(codec: HeatmapCodec, heatmaps: Tensor4D): Promise<DecodedJoints[]> {
  const [n, h, w, k] = heatmaps.shape;
  if (h !== codec.size.height || w !== codec.size.width) {
    throw new InvalidArgumentError(`decodeBatch: heatmaps are ${w}x${h}, the codec expects ${codec.size.width}x${codec.size.height}`);
  }
  const data = (await heatmaps.data()) as Float32Array;
  const per = h * w * k;
  return Array.from({ length: n }, (_, i) => codec.decode(data.subarray(i * per, (i + 1) * per), k));
}

/**
 * Mirrors heatmaps left-right and swaps left/right joint channels: heatmaps [N, H, W, K] -> [N, H, W, K].
 * flipPerm[k] is the channel that joint k comes from (see flipPermutation in data/skeletons).
 * Applying it twice gives back the input.
 */
export function flipHeatmaps(heatmaps: Tensor4D, flipPerm: readonly number[]): Tensor4D {
  const k = heatmaps.shape[3];
  if (flipPerm.length !== k) throw new InvalidArgumentError(`flip permutation has ${flipPerm.length} entries for ${k} joints`);
  return tf.tidy(() => tf.gather(tf.reverse(heatmaps, 2), tf.tensor1d([...flipPerm], 'int32'), 3) as Tensor4D);
}
