// Tests of one sample's preparation (src/data/prepare.ts), docs/method.md "Data preparation and augmentation": a joint
// stays on the same image content through crop + scale + rotation + flip; invisible joints are masked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeatmapCodec } from '../../src/codec/heatmap.js';
import type { AugmentParams } from '../../src/data/augment.js';
import { prepareSample } from '../../src/data/prepare.js';
import type { Sample } from '../../src/data/sample.js';
import { LSP14 } from '../../src/data/skeletons/lsp.js';
import { flipPermutation } from '../../src/data/skeletons/types.js';
import { cropTransform, invertAffine, transformPoints } from '../../src/geometry/affine.js';
import type { RasterImage } from '../../src/geometry/affine.js';

const W = 300;
const K = 14;
const FLIP = flipPermutation(LSP14);
const S = 128;
const H = 32;
const CODEC = new HeatmapCodec({ size: { width: H, height: H }, sigma: 1 });

/** A distinct colour per joint: base-3 digits of k + 1 as levels 0, 0.5, 1 of r, g, b (never black). */
function jointColour(k: number): [number, number, number] {
  const d = [(k + 1) % 3, Math.floor((k + 1) / 3) % 3, Math.floor((k + 1) / 9) % 3];
  return [d[0] / 2, d[1] / 2, d[2] / 2];
}

/** 14 joints on two rings around the centre (150, 150), at least 30 px apart, each drawn as a coloured disc. */
function scene(): { image: RasterImage; sample: Sample } {
  const joints = new Float32Array(2 * K);
  for (let k = 0; k < K; k++) {
    const r = k % 2 === 0 ? 85 : 45;
    const a = (2 * Math.PI * k) / K + 0.3;
    joints[2 * k] = 150 + r * Math.cos(a) + 0.3;
    joints[2 * k + 1] = 150 + r * Math.sin(a) - 0.2;
  }
  const data = new Uint8Array(W * W * 3);
  for (let k = 0; k < K; k++) {
    const c = jointColour(k);
    for (let y = 0; y < W; y++) {
      for (let x = 0; x < W; x++) {
        if ((x - joints[2 * k]) ** 2 + (y - joints[2 * k + 1]) ** 2 <= 9 * 9) {
          for (let ch = 0; ch < 3; ch++) data[(y * W + x) * 3 + ch] = Math.round(c[ch] * 255);
        }
      }
    }
  }
  const sample: Sample = {
    id: 'synthetic:1', index: 1, imagePath: 'synthetic.png', joints, visible: new Uint8Array(K).fill(1),
    center: [150, 150], scale: 1.2,
  };
  return { image: { data, width: W, height: W, channels: 3 }, sample };
}

const CASES: [string, AugmentParams][] = [
  ['rotation 35 + flip + scale 1.1', { scaleFactor: 1.1, rotation: 35, flip: true, colour: [1, 1, 1], shift: [0, 0] }],
  ['rotation -50, no flip, scale 0.9', { scaleFactor: 0.9, rotation: -50, flip: false, colour: [1, 1, 1], shift: [0, 0] }],
  ['flip only', { scaleFactor: 1, rotation: 0, flip: true, colour: [1, 1, 1], shift: [0, 0] }],
  ['shift + rotation 20 + flip', { scaleFactor: 1, rotation: 20, flip: true, colour: [1, 1, 1], shift: [0.12, -0.09] }],
];

for (const [name, augmentation] of CASES) {
  test(`a joint's heatmap peak lands on its own dot in the input crop (${name})`, () => {
    const { image, sample } = scene();
    const out = prepareSample(image, sample, { inputSize: S, heatmapSize: H, codec: CODEC, flipPerm: FLIP, boxRule: 'as-is', augmentation });
    assert.equal(out.input.length, S * S * 3);
    assert.equal(out.heatmaps.length, H * H * K);
    assert.deepEqual([...out.weights], new Array<number>(K).fill(1));
    const decoded = CODEC.decode(out.heatmaps, K);
    const back = transformPoints(invertAffine(out.imageToHeatmap), decoded.points);
    for (let k = 0; k < K; k++) {
      // A Gaussian sampled at cell centres peaks at >= exp(-0.25) ~ 0.78. Channel k holds joint FLIP[k] when flipped (a left joint becomes a right one), else joint k.
      const joint = augmentation.flip ? FLIP[k] : k;
      assert.ok(decoded.scores[k] > 0.75, `channel ${k}: peak ${decoded.scores[k]}`);
      // Heatmap cell centres sit at integers, like input pixels: input = (heatmap + 0.5) * S/H - 0.5.
      const qx = Math.round((decoded.points[2 * k] + 0.5) * (S / H) - 0.5);
      const qy = Math.round((decoded.points[2 * k + 1] + 0.5) * (S / H) - 0.5);
      const o = (qy * S + qx) * 3;
      const got = [out.input[o], out.input[o + 1], out.input[o + 2]];
      const want = jointColour(joint);
      for (let ch = 0; ch < 3; ch++) {
        assert.ok(Math.abs(got[ch] - want[ch]) < 0.15, `channel ${k} (joint ${LSP14.joints[joint]}): input colour at its peak is [${got.map((v) => v.toFixed(2))}], the dot's is [${want}]`);
      }
      // And the peak maps back to the original image position of that joint.
      const dx = back[2 * k] - sample.joints[2 * joint];
      const dy = back[2 * k + 1] - sample.joints[2 * joint + 1];
      assert.ok(Math.hypot(dx, dy) < 4, `channel ${k}: maps back ${Math.hypot(dx, dy).toFixed(2)} px from joint ${joint}`);
    }
  });
}

test('without augmentation the frames are the plain crop; colour gains are applied and clipped', () => {
  const { image, sample } = scene();
  const plain = prepareSample(image, sample, { inputSize: S, heatmapSize: H, codec: CODEC, flipPerm: FLIP, boxRule: 'as-is', augmentation: null });
  assert.deepEqual(plain.imageToHeatmap, cropTransform({ center: [150, 150], scale: 1.2 }, { width: H, height: H }));
  const tinted = prepareSample(image, sample, {
    inputSize: S, heatmapSize: H, codec: CODEC, flipPerm: FLIP, boxRule: 'as-is',
    augmentation: { scaleFactor: 1, rotation: 0, flip: false, colour: [1.4, 0.6, 1], shift: [0, 0] },
  });
  for (let i = 0; i < plain.input.length; i += 3) {
    assert.ok(Math.abs(tinted.input[i] - Math.min(1, plain.input[i] * 1.4)) < 1e-6);
    assert.ok(Math.abs(tinted.input[i + 1] - plain.input[i + 1] * 0.6) < 1e-6);
    assert.equal(tinted.input[i + 2], plain.input[i + 2]);
  }
});

test('a shift moves the crop centre by that fraction of the crop side, scale included', () => {
  const { image, sample } = scene();
  const shifted = prepareSample(image, sample, {
    inputSize: S, heatmapSize: H, codec: CODEC, flipPerm: FLIP, boxRule: 'as-is',
    augmentation: { scaleFactor: 1.25, rotation: 0, flip: false, colour: [1, 1, 1], shift: [0.1, -0.2] },
  });
  // The crop's side is 200 x 1.2 x 1.25 = 300 image pixels: its centre is (150 + 30, 150 - 60).
  assert.deepEqual(shifted.imageToHeatmap, cropTransform({ center: [180, 90], scale: 1.5 }, { width: H, height: H }));
});

test('invisible joints are masked, and their flag follows the left/right swap', () => {
  const { image, sample } = scene();
  const visible = new Uint8Array(K).fill(1);
  visible[2] = 0; // right hip unlabelled
  const s: Sample = { ...sample, visible };
  const plane = (hm: Float32Array, k: number): number[] => Array.from({ length: H * H }, (_, i) => hm[i * K + k]);
  const base = { inputSize: S, heatmapSize: H, codec: CODEC, flipPerm: FLIP, boxRule: 'as-is' as const };
  const straight = prepareSample(image, s, { ...base, augmentation: null });
  assert.equal(straight.weights[2], 0);
  assert.ok(plane(straight.heatmaps, 2).every((v) => v === 0));
  const flipped = prepareSample(image, s, { ...base, augmentation: { scaleFactor: 1, rotation: 0, flip: true, colour: [1, 1, 1], shift: [0, 0] } });
  // After the flip the right hip's label is the left hip's (channel 3) and vice versa.
  assert.equal(flipped.weights[3], 0);
  assert.equal(flipped.weights[2], 1);
  assert.ok(plane(flipped.heatmaps, 3).every((v) => v === 0));
  assert.ok(Math.max(...plane(flipped.heatmaps, 2)) > 0.75);
});
