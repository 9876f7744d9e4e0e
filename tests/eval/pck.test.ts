// Metrics on hand-built arrays with exact expected values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pck, pckh, pckLsp, summarize, headSizeFromBox, jointDistances } from '../../src/eval/pck.js';
import { LSP14 } from '../../src/data/skeletons/lsp.js';
import { MPII16 } from '../../src/data/skeletons/mpii.js';

test('pck counts only labelled joints and uses each sample\'s normaliser', () => {
  // 2 samples x 2 joints. Normalisers 10 and 20, threshold 0.5 -> limits 5 and 10.
  const truth = [0, 0, 10, 10, 0, 0, 10, 10];
  const predictions = [3, 4, 10, 16, 6, 8, 100, 100];
  // distances: s0: 5 (hit, equal to the limit), 6 (miss); s1: 10 (hit), far (unlabelled)
  const r = pck({ predictions, truth, labelled: [1, 1, 1, 0], normalizers: [10, 20], threshold: 0.5, joints: 2 });
  assert.deepEqual(r.counts, [2, 1]);
  assert.deepEqual(r.correct, [2, 0]);
  assert.deepEqual(r.perJoint, [100, 0]);
  const strict = pck({ predictions, truth, labelled: [1, 1, 1, 0], normalizers: [10, 20], threshold: 0.5, joints: 2, inclusive: false });
  assert.deepEqual(strict.correct, [0, 0], 'distance equal to the limit is a miss with a strict threshold');
});

test('samples with an unusable normaliser are skipped; NaN predictions are misses', () => {
  const r = pck({ predictions: [NaN, 0, 0, 0], truth: [0, 0, 0, 0], labelled: [1, 1], normalizers: [1, 0], threshold: 0.5, joints: 1 });
  assert.deepEqual(r.counts, [1]);
  assert.deepEqual(r.correct, [0]);
  assert.equal(r.skippedSamples, 1);
  assert.ok(Number.isNaN(pck({ predictions: [0, 0], truth: [0, 0], labelled: [0], normalizers: [1], threshold: 1, joints: 1 }).perJoint[0]));
});

test('pckLsp uses the right-shoulder to left-hip torso at 0.2', () => {
  const truth = new Array(14 * 2).fill(0);
  truth[8 * 2] = 0; truth[8 * 2 + 1] = 0; // right shoulder
  truth[3 * 2] = 30; truth[3 * 2 + 1] = 40; // left hip: torso 50 -> limit 10
  const predictions = truth.slice();
  predictions[0] = 9.9; // right ankle off by 9.9: hit
  predictions[2] = 10.1; // right knee off by 10.1: miss
  const r = pckLsp({ predictions, truth, labelled: new Array(14).fill(1) });
  assert.equal(r.perJoint[0], 100);
  assert.equal(r.perJoint[1], 0);
  assert.equal(r.perJoint[13], 100);
  assert.deepEqual(Array.from(jointDistances(truth, 14, 8, 3)), [50]);
});

test('summarize averages groups over left/right and pools the mean over the groups\' joints', () => {
  // MPII: per joint counts and correct chosen by hand.
  const k = 16;
  const counts = new Array(k).fill(10);
  const correct = new Array(k).fill(10);
  correct[0] = 5; // r ankle 50%
  counts[5] = 30; correct[5] = 30; // l ankle 100% over 30 joints
  correct[6] = 0; // pelvis 0%: not in any group, not in the mean
  const perJoint = counts.map((c, j) => (100 * correct[j]) / c);
  const s = summarize({ perJoint, counts, correct, skippedSamples: 0 }, MPII16);
  const ankle = s.perGroup.find((g) => g.name === 'ankle');
  assert.deepEqual(ankle, { name: 'ankle', pck: 75, count: 40 });
  // Mean over the 14 joints other than pelvis and thorax: counts 13*10 + 30 = 160, correct 160 - 5 = 155.
  assert.equal(s.count, 160);
  assert.equal(s.mean, (100 * 155) / 160);
  assert.equal(s.perJoint[6].name, 'pelvis');
  // The standard table's 'Head' is the head top alone (upper neck counts only in the mean).
  assert.deepEqual(s.perGroup[0], { name: 'head', pck: 100, count: 10 });
});

test('pckh is strict at 0.5 of the head size; head size is 0.6 x the head-box diagonal', () => {
  assert.equal(headSizeFromBox(0, 0, 30, 40), 30);
  const r = pckh({ predictions: [15, 0, 14.9, 0], truth: [0, 0, 0, 0], labelled: [1, 1], normalizers: [30, 30], joints: 1 });
  assert.deepEqual(r.correct, [1]); // 15 is not < 15, 14.9 is
});

test('summarize on LSP names the 14 joints in order', () => {
  const perJoint = new Array(14).fill(50);
  const counts = new Array(14).fill(2);
  const correct = new Array(14).fill(1);
  const s = summarize({ perJoint, counts, correct, skippedSamples: 0 }, LSP14);
  assert.equal(s.perJoint[13].name, 'head_top');
  assert.equal(s.mean, 50);
  assert.equal(s.count, 28);
  assert.deepEqual(s.perGroup.map((g) => g.name), ['head', 'shoulder', 'elbow', 'wrist', 'hip', 'knee', 'ankle']);
});

test('size mismatch is refused', () => {
  assert.throws(() => pck({ predictions: [0], truth: [0, 0], labelled: [1], normalizers: [1], threshold: 1, joints: 1 }), /sizes disagree/);
});
