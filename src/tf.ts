// The one place the project imports TensorFlow.js from. tfjs-core's Node bundle carries no gradients;
// the umbrella package registers them (and the cpu backend) into the shared registry as a side effect.
import '@tensorflow/tfjs';
import './backend/cpu-fixes.js';
import * as tf from '@tensorflow/tfjs-core';

// The cpu backend prints a banner suggesting tfjs-node on first use; our backend selection says what it took.
tf.env().set('PROD', true);

export { tf };
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Variable, Rank, NamedTensorMap } from '@tensorflow/tfjs-core';
