// 8-bit weight storage (src/util/int8.ts): per-channel scales, rounding within half a step, zeros and extremes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dequantizeInt8, quantizeInt8, allFinite } from '../../src/util/int8.js';

test('quantizeInt8: a scale per channel of the last axis, each value within half a step, the peak exact', () => {
  // 3 channels (fastest axis): one ordinary, one all zero, one with a single large value
  const values = Float32Array.from([0.5, 0, -3, -0.25, 0, 0.001, 0.1, 0, 0.002, -0.0039, 0, 0]);
  const { values: q, scales } = quantizeInt8(values, 3);
  assert.deepEqual(Array.from(scales), [Math.fround(0.5 / 127), 0, Math.fround(3 / 127)]);
  assert.equal(q[0], 127);
  assert.equal(q[2], -127);
  assert.deepEqual([q[1], q[4], q[7], q[10]], [0, 0, 0, 0]);
  const back = dequantizeInt8(q, scales);
  values.forEach((v, i) => assert.ok(Math.abs(back[i] - v) <= scales[i % 3] / 2 * (1 + 1e-6), `[${i}] ${back[i]} vs ${v}`));
  assert.equal(back[0], Math.fround(127 * scales[0]));
  assert.ok(Math.abs(back[0] - 0.5) < 1e-7);
});

test('quantizeInt8 / dequantizeInt8 refuse data that does not split into the channels; allFinite', () => {
  assert.throws(() => quantizeInt8(new Float32Array(5), 2), /5 values do not split into 2 channels/);
  assert.throws(() => quantizeInt8(new Float32Array(4), 0), /do not split into 0 channels/);
  assert.throws(() => dequantizeInt8(new Int8Array(5), [1, 1]), /5 values do not split into 2 channels/);
  assert.ok(allFinite(Float32Array.from([0, -1e30, 3])));
  assert.ok(!allFinite(Float32Array.from([0, NaN])));
  assert.ok(!allFinite(Float32Array.from([Infinity])));
});
