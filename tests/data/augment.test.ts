// Tests of the augmentation parameters (src/data/augment.ts) against docs/method.md
// "Data preparation and augmentation": clamps, probabilities and ranges over many seeded draws; option validation;
// colour gain and clipping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyColour, augmentOptions, DEFAULT_AUGMENTATION, sampleAugmentation } from '../../src/data/augment.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { Rng } from '../../src/util/rng.js';

test('the defaults are the paper\'s current revision', () => {
  assert.deepEqual({ ...DEFAULT_AUGMENTATION }, {
    scaleSigma: 0.25, scaleClamp: 0.5, rotationSigma: 30, rotationClamp: 60,
    rotationProbability: 0.4, flipProbability: 0.5, colourMin: 0.6, colourMax: 1.4,
    translateSigma: 0, translateClamp: 0.25, // ours, off: the paper does not translate
  });
});

test('parameter distributions: clamps, probabilities and ranges', () => {
  const rng = new Rng(2024);
  const n = 40_000;
  let rotated = 0;
  let rotClamped = 0;
  let flipped = 0;
  let scaleClamped = 0;
  let sumLog = 0;
  let sumLog2 = 0;
  const colourSum = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const p = sampleAugmentation(rng);
    const log = Math.log2(p.scaleFactor);
    assert.ok(log >= -0.5 - 1e-12 && log <= 0.5 + 1e-12, `scale ${p.scaleFactor}`);
    if (Math.abs(Math.abs(log) - 0.5) < 1e-12) scaleClamped++;
    sumLog += log;
    sumLog2 += log * log;
    assert.ok(Math.abs(p.rotation) <= 60);
    if (p.rotation !== 0) rotated++;
    if (Math.abs(p.rotation) === 60) rotClamped++;
    if (p.flip) flipped++;
    p.colour.forEach((c, k) => {
      assert.ok(c >= 0.6 && c < 1.4, `colour ${c}`);
      colourSum[k] += c;
    });
  }
  // P(|N(0,1)| > 2) = 0.0455: the share clamped, for scale (0.25 N vs 0.5) and rotation (30 N vs 60).
  assert.ok(Math.abs(scaleClamped / n - 0.0455) < 0.006, `scale clamped ${scaleClamped / n}`);
  assert.ok(Math.abs(rotClamped / rotated - 0.0455) < 0.01, `rotation clamped ${rotClamped / rotated}`);
  assert.ok(Math.abs(rotated / n - 0.4) < 0.01, `rotation probability ${rotated / n}`);
  assert.ok(Math.abs(flipped / n - 0.5) < 0.01, `flip probability ${flipped / n}`);
  assert.ok(Math.abs(sumLog / n) < 0.005, `mean log2 scale ${sumLog / n}`);
  // sd of 0.25 N clamped at 2 sd: 0.25 * sqrt(0.9465) (the clamp shrinks the tails a little).
  assert.ok(Math.abs(Math.sqrt(sumLog2 / n) - 0.25 * Math.sqrt(0.9465)) < 0.005, `sd log2 scale ${Math.sqrt(sumLog2 / n)}`);
  for (const s of colourSum) assert.ok(Math.abs(s / n - 1) < 0.01, `mean colour gain ${s / n}`);
});

test('draws are reproducible and overrides apply', () => {
  assert.deepEqual(sampleAugmentation(new Rng(9)), sampleAugmentation(new Rng(9)));
  const o = augmentOptions({ rotationProbability: 1, flipProbability: 0, colourMin: 1, colourMax: 1 });
  const rng = new Rng(1);
  for (let i = 0; i < 100; i++) {
    const p = sampleAugmentation(rng, o);
    assert.equal(p.flip, false);
    assert.deepEqual(p.colour, [1, 1, 1]);
  }
  const none = augmentOptions({ scaleSigma: 0, rotationSigma: 0, flipProbability: 0, colourMin: 1, colourMax: 1 });
  const p = sampleAugmentation(new Rng(5), none);
  assert.deepEqual([p.scaleFactor, Math.abs(p.rotation), p.flip], [1, 0, false]);
});

test('translation: none by default (the paper), else each component N(0, sigma) clamped; the first seven draws unchanged', () => {
  const rng = new Rng(3);
  for (let i = 0; i < 50; i++) assert.deepEqual(sampleAugmentation(rng).shift, [0, 0]);
  const o = augmentOptions({ translateSigma: 0.1, translateClamp: 0.15 });
  const n = 20000;
  let sum = 0;
  let sum2 = 0;
  let clamped = 0;
  const draws = new Rng(4);
  for (let i = 0; i < n; i++) {
    const seed = draws.int(1 << 30);
    const p = sampleAugmentation(new Rng(seed), o);
    const { shift: _, ...rest } = p;
    const { shift: __, ...paper } = sampleAugmentation(new Rng(seed));
    assert.deepEqual(rest, paper); // the shift is drawn last: a run without it draws the same scale, rotation, flip, colour
    for (const v of p.shift) {
      assert.ok(Math.abs(v) <= 0.15);
      if (Math.abs(v) === 0.15) clamped++;
      sum += v;
      sum2 += v * v;
    }
  }
  // P(|N(0,1)| > 1.5) = 0.1336.
  assert.ok(Math.abs(clamped / (2 * n) - 0.1336) < 0.01, `shift clamped ${clamped / (2 * n)}`);
  assert.ok(Math.abs(sum / (2 * n)) < 0.003, `mean shift ${sum / (2 * n)}`);
  assert.ok(Math.sqrt(sum2 / (2 * n)) > 0.08 && Math.sqrt(sum2 / (2 * n)) < 0.1, `sd shift ${Math.sqrt(sum2 / (2 * n))}`);
  assert.throws(() => augmentOptions({ translateSigma: -0.1 }), /translateSigma must be a finite number >= 0/);
});

test('options are validated with the bad key named', () => {
  assert.throws(() => augmentOptions({ flipProbability: 1.5 }), /flipProbability must be in \[0, 1\], got 1.5/);
  assert.throws(() => augmentOptions({ colourMin: 1.2, colourMax: 1.1 }), /colourMax/);
  assert.throws(() => augmentOptions({ scaleSigma: -1 }), InvalidArgumentError);
  assert.throws(() => augmentOptions({ rotate: 30 } as unknown as Partial<typeof DEFAULT_AUGMENTATION>), /unknown augmentation option 'rotate'/);
});

test('colour: per-channel gain, clipped to [0, 1]', () => {
  const px = new Float32Array([0.5, 0.5, 0.5, 0.9, 0.1, 0]);
  applyColour(px, [1.4, 0.6, 1]);
  assert.deepEqual([...px].map((v) => Math.round(v * 1000) / 1000), [0.7, 0.3, 0.5, 1, 0.06, 0]);
});
