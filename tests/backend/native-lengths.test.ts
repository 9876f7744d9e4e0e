// The native kernels write by the shapes they are given: an array whose length does not match its shape is an error
// naming the operation and the argument, never a write past its end (native/src/common.h expectLength).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadAddon } from '../../src/backend/native/addon.js';
import { SKIP_NATIVE, requireNative } from './native-parity.js';

test('native kernels refuse arrays of the wrong length for their shapes', { skip: SKIP_NATIVE }, () => {
  requireNative();
  const load = loadAddon();
  assert.ok(load.ok);
  const addon = load.addon;
  // conv2d: n=1, 4x4x2 input, 3x3 filter, 3 output channels, 4x4 output, stride 1, dilation 1, padding 1.
  const g = Int32Array.from([1, 4, 4, 2, 3, 3, 3, 4, 4, 1, 1, 1, 1, 1, 1, 1, 1]);
  const x = new Float32Array(32);
  const w = new Float32Array(3 * 3 * 2 * 3);
  addon.conv2d(x, w, null, new Float32Array(48), g, false); // the right lengths run
  assert.throws(() => addon.conv2d(x, w, null, new Float32Array(47), g, false), /conv2d: the output holds 47 values, its shape 48/);
  assert.throws(() => addon.conv2d(x, w, new Float32Array(2), new Float32Array(48), g, false), /conv2d: the bias holds 2 values, its shape 3/);
  assert.throws(() => addon.conv2dBackpropInput(new Float32Array(48), w, new Float32Array(31), g), /conv2dBackpropInput: the input holds 31/);
  assert.throws(() => addon.conv2dBackpropFilter(x, new Float32Array(48), new Float32Array(17), g), /conv2dBackpropFilter: the filter holds 17/);
  // batch norm: [1, 2, 2, 3].
  const shape = Int32Array.from([1, 2, 2, 3]);
  const c3 = () => new Float32Array(3);
  addon.batchNormTrain(new Float32Array(12), c3(), c3(), new Float32Array(12), c3(), c3(), shape, 1e-3, false);
  assert.throws(() => addon.batchNormTrain(new Float32Array(12), c3(), c3(), new Float32Array(11), c3(), c3(), shape, 1e-3, false), /batchNormTrain: y holds 11/);
  assert.throws(() => addon.batchNormTrain(new Float32Array(12), c3(), c3(), new Float32Array(12), new Float32Array(2), c3(), shape, 1e-3, false), /batchNormTrain: a per-channel argument holds 2/);
  // max pool: [1, 4, 4, 2] -> [1, 2, 2, 2], 2x2 windows, stride 2.
  const pg = Int32Array.from([1, 4, 4, 2, 2, 2, 2, 2, 2, 2, 0, 0]);
  addon.maxPool(new Float32Array(32), new Float32Array(8), pg);
  assert.throws(() => addon.maxPool(new Float32Array(32), new Float32Array(7), pg), /maxPool: y holds 7 values, its shape 8/);
  assert.throws(() => addon.maxPoolGrad(new Float32Array(8), new Float32Array(32), new Float32Array(30), pg), /maxPoolGrad: dx holds 30/);
  // binaryStrided: a negative stride passed the last-element check and read before the array's start.
  const four = () => new Float32Array(4);
  const s2 = Int32Array.from([2, 2]);
  addon.binaryStrided(0, four(), four(), four(), s2, Int32Array.from([2, 1]), Int32Array.from([0, 1]));
  assert.throws(() => addon.binaryStrided(0, four(), four(), four(), s2, Int32Array.from([4, -3]), Int32Array.from([2, 1])), /binaryStrided: shape and strides must not be negative/);
});
