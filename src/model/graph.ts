// The operations the network's forward pass is written in (network.ts, layers.ts), generic over what a value is:
// the one definition of the topology. TfGraph runs each op on TF.js tensors as it comes (training and inference;
// the reference). Others record them: the native backend's inference plan with its fusions
// (src/backend/native/plan.ts), the TF.js export's Keras layers (src/export/tfjs.ts), the (conv, BN) pairs that
// fold (fold.ts). A new block made of these ops is written once, in the network; a new kind of op is added here and
// to each implementation.
import { tf } from '../tf.js';
import type { Tensor4D } from '../tf.js';
import type { ApplyContext, BatchNorm, Conv } from './layers.js';

/**
 * The ops with parameters take their layer (its name and shapes); the others a name for what they make, which the
 * exported model's layers carry (src/export/tfjs.ts). Implementations need not use the names.
 */
export interface NetworkGraph<V> {
  /** conv(x) + bias; at inference, with its batch norm and ReLU inside where the folding (fold.ts) put them. */
  conv(layer: Conv, x: V): V;
  /** relu(bn(x)); nothing at inference where the batch norm is folded into the convolution before. */
  bnRelu(bn: BatchNorm, x: V): V;
  /** 2x2 max pooling, stride 2: [N, H, W, C] -> [N, H/2, W/2, C]. */
  maxPool2(x: V, name: string): V;
  /** up + low upsampled (nearest neighbour) to up's height and width; exported as name.upsample and name.add. */
  upsampleAdd(low: V, up: V, name: string): V;
  /** x + onto; a plan computes it as x's convolution accumulating onto onto's buffer. */
  add(x: V, onto: V, name: string): V;
  /** The sum of the terms; a plan accumulates each term's convolution onto the sum of the terms before it. */
  sum(terms: V[], name: string): V;
}

/** The network on TF.js tensors: each op as the layers apply it (training or inference, folded or not). */
export class TfGraph implements NetworkGraph<Tensor4D> {
  constructor(private readonly ctx: ApplyContext) {}

  conv(layer: Conv, x: Tensor4D): Tensor4D {
    return layer.apply(this.ctx, x);
  }

  bnRelu(bn: BatchNorm, x: Tensor4D): Tensor4D {
    return bn.apply(this.ctx, x, true);
  }

  maxPool2(x: Tensor4D): Tensor4D {
    return tf.maxPool(x, 2, 2, 'valid');
  }

  upsampleAdd(low: Tensor4D, up: Tensor4D): Tensor4D {
    const [, h, w] = up.shape;
    return tf.add(up, tf.image.resizeNearestNeighbor(low, [h, w]));
  }

  add(x: Tensor4D, onto: Tensor4D): Tensor4D {
    return tf.add(x, onto);
  }

  sum(terms: Tensor4D[]): Tensor4D {
    return tf.addN(terms);
  }
}
