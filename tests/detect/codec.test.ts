// The detector's grid format: targets made from boxes decode back to those boxes; peaks, suppression and overlap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHANNELS, decodeGrid, decodeSize, encodeSize, encodeTargets, iou, suppress } from '../../src/detect/codec.js';

test('boxes encoded as targets decode back to the same boxes (centre within a pixel, size within 1%)', () => {
  const boxes = [
    { x: 10.3, y: 20.7, width: 30, height: 80 },
    { x: 70, y: 8, width: 12, height: 20 },
    { x: 40, y: 90, width: 60, height: 30 },
  ];
  const { targets, sizeMask } = encodeTargets(boxes, 32);
  assert.equal(targets.length, 32 * 32 * CHANNELS);
  assert.equal(sizeMask.reduce((a, b) => a + b, 0), 27); // 3x3 cells per person, none overlapping here
  const found = decodeGrid(targets, 32, 0.5);
  assert.equal(found.length, 3);
  for (const box of boxes) {
    const d = found.find((f) => iou(f.box, box) > 0.8);
    assert.ok(d, `box ${JSON.stringify(box)} not found in ${JSON.stringify(found)}`);
    assert.ok(Math.abs(d.box.x + d.box.width / 2 - (box.x + box.width / 2)) < 1, 'centre x');
    assert.ok(Math.abs(d.box.y + d.box.height / 2 - (box.y + box.height / 2)) < 1, 'centre y');
    assert.ok(Math.abs(d.box.width / box.width - 1) < 0.01 && Math.abs(d.box.height / box.height - 1) < 0.01, 'size');
    assert.ok(d.score > 0.8); // the nearest cell's value of a Gaussian centred off the grid
  }
  // Nothing is found in an empty grid, and a threshold above the peaks finds nothing.
  assert.deepEqual(decodeGrid(new Float32Array(32 * 32 * CHANNELS), 32, 0.1), []);
  assert.deepEqual(decodeGrid(targets, 32, 1.01), []);
});

test('size values are log2(side / 4) / 4; overlap and suppression keep the best of overlapping boxes', () => {
  assert.equal(encodeSize(4), 0);
  assert.equal(encodeSize(128), 1.25);
  assert.ok(Math.abs(decodeSize(encodeSize(37)) - 37) < 1e-9);
  const a = { x: 0, y: 0, width: 10, height: 10 };
  assert.equal(iou(a, a), 1);
  assert.equal(iou(a, { x: 10, y: 0, width: 10, height: 10 }), 0);
  assert.ok(Math.abs(iou(a, { x: 5, y: 0, width: 10, height: 10 }) - 1 / 3) < 1e-12);
  const kept = suppress([
    { box: a, score: 0.5 }, { box: { x: 1, y: 1, width: 10, height: 10 }, score: 0.9 }, { box: { x: 50, y: 50, width: 10, height: 10 }, score: 0.3 },
  ], 0.4);
  assert.deepEqual(kept.map((k) => k.score), [0.9, 0.3]);
});
