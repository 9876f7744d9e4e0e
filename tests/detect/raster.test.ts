// Pixel helpers of the person search: area shrinking, pasting rectangles, box blur.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxBlur, newCanvas, pasteRect, shrinkToCanvas } from '../../src/detect/raster.js';

test('shrinkToCanvas averages factor x factor blocks of a big image and keeps a small one as it is', () => {
  // 8x4 grey-ish RGB bytes: left half 0, right half 255.
  const data = new Uint8Array(8 * 4 * 3);
  for (let y = 0; y < 4; y++) for (let x = 4; x < 8; x++) data.fill(255, (y * 8 + x) * 3, (y * 8 + x) * 3 + 3);
  const { canvas, factor } = shrinkToCanvas({ data, width: 8, height: 4, channels: 3 }, 4);
  assert.equal(factor, 2);
  assert.deepEqual([canvas.width, canvas.height], [4, 2]);
  assert.deepEqual([...canvas.data.slice(0, 12)], [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  const same = shrinkToCanvas({ data, width: 8, height: 4, channels: 3 }, 8);
  assert.equal(same.factor, 1);
  assert.ok(Math.abs(same.canvas.data[4 * 3] - 1) < 1e-7);
});

test('pasteRect copies a rectangle 1:1, scales it, and clips it to the canvas; boxBlur keeps a flat image flat', () => {
  const src = { data: Float32Array.from({ length: 4 * 4 * 3 }, (_, i) => (Math.floor(i / 3) % 4) / 4), width: 4, height: 4, channels: 3 };
  const canvas = newCanvas(6, 6, [1, 1, 1]);
  pasteRect(canvas, src, { x: 0, y: 0, width: 4, height: 4 }, { x: 1, y: 1, width: 4, height: 4 });
  assert.equal(canvas.data[0], 1); // outside the target: untouched
  for (let x = 0; x < 4; x++) assert.ok(Math.abs(canvas.data[((1) * 6 + 1 + x) * 3] - x / 4) < 1e-6);
  const big = newCanvas(3, 3);
  pasteRect(big, src, { x: 0, y: 0, width: 4, height: 4 }, { x: -2, y: -2, width: 8, height: 8 });
  assert.ok(big.data.every((v) => v >= 0 && v <= 1));
  const flat = newCanvas(9, 7, [0.25, 0.5, 0.75]);
  boxBlur(flat, 2, 3);
  assert.ok(flat.data.every((v, i) => Math.abs(v - [0.25, 0.5, 0.75][i % 3]) < 1e-6));
});
