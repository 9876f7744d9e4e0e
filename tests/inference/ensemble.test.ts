// Ensembles (src/inference/ensemble.ts): a member with a smaller input must see the same square of the image and put
// its heatmap peaks where a full-size member puts them; identical members change nothing; specs with commas load
// every member, and what cannot be an ensemble is refused with a message naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../../src/tf.js';
import type { Tensor4D } from '../../src/tf.js';
import { Ensemble, describeNetwork } from '../../src/inference/ensemble.js';
import { HeatmapCodec } from '../../src/codec/heatmap.js';
import { HourglassModel } from '../../src/model/model.js';
import { saveModel } from '../../src/model/checkpoint.js';
import { loadPoseNetwork, modelSpecPaths } from '../../src/api/models.js';
import { useCpu } from '../helpers.js';
import { FIXTURES } from '../data/paths.js';
import { keypointsInBox, cropForBox } from '../../src/inference/person.js';
import { BBOX_MARGIN } from '../../src/geometry/person-box.js';
import { prepareInput } from '../../src/data/prepare.js';
import { cropTransform } from '../../src/geometry/affine.js';
import type { Skeleton } from '../../src/data/skeletons/types.js';
import { main } from '../../src/cli/main.js';
import { captureIo as capture } from '../cli/capture.js';

/**
 * A stand-in network of input size `size`: one heatmap, a Gaussian (sigma 1 heatmap pixel) at the intensity centroid of
 * the input's first channel, mapped to the heatmap frame with the project's pixel-centre convention (input pixel x is
 * heatmap pixel (x + 0.5) / 4 - 0.5). A box-averaged smaller input keeps the centroid, so the geometry shows alone.
 */
function centroidNet(size: number): HourglassModel {
  const h = size / 4;
  const net = {
    config: { inputSize: size, joints: 1 },
    predict(images: Tensor4D): Tensor4D {
      const [n] = images.shape;
      const pixels = images.arraySync();
      const out = new Float32Array(n * h * h);
      for (let b = 0; b < n; b++) {
        let [sx, sy, sw] = [0, 0, 0];
        pixels[b].forEach((row, y) => row.forEach((px, x) => { sx += px[0] * x; sy += px[0] * y; sw += px[0]; }));
        const cx = (sx / sw + 0.5) / 4 - 0.5;
        const cy = (sy / sw + 0.5) / 4 - 0.5;
        for (let v = 0; v < h; v++) for (let u = 0; u < h; u++) out[b * h * h + v * h + u] = Math.exp(-((u - cx) ** 2 + (v - cy) ** 2) / 2);
      }
      return tf.tensor4d(out, [n, h, h, 1]);
    },
    dispose(): void {},
  };
  return net as unknown as HourglassModel;
}

/** The decoded peak of a [1, h, h, 1] heatmap (the project's decoding, Taylor step), in its pixels. */
function peak(heatmap: Tensor4D): [number, number] {
  const [, h] = heatmap.shape;
  const codec = new HeatmapCodec({ size: { width: h, height: h } });
  const { points } = codec.decode(heatmap.dataSync(), 1);
  return [points[0], points[1]];
}

test('a half-size member sees the same square and puts its peak where the full-size member does', async () => {
  await useCpu();
  const S = 64;
  for (const [x, y] of [[20, 41], [37.5, 18], [44, 30.2]]) {
    // A soft blob at (x, y) in a 64-px input.
    const img = new Float32Array(S * S * 3);
    for (let v = 0; v < S; v++) for (let u = 0; u < S; u++) img[(v * S + u) * 3] = Math.exp(-((u - x) ** 2 + (v - y) ** 2) / 18);
    const input = tf.tensor4d(img, [1, S, S, 3]);
    const full = centroidNet(S);
    const ensemble = new Ensemble([full, centroidNet(S / 2)]);
    assert.deepEqual(ensemble.config, { inputSize: S, joints: 1 });
    const alone = full.predict(input);
    const both = ensemble.predict(input);
    assert.deepEqual(both.shape, [1, S / 4, S / 4, 1]);
    const [ax, ay] = peak(alone);
    const [bx, by] = peak(both);
    // Resampling flattens the half-size member's peak a little; its place must not move (a half-pixel slip of the
    // half-size member would move the average by about 0.12 heatmap pixels here).
    assert.ok(Math.abs(ax - bx) < 0.03 && Math.abs(ay - by) < 0.03, `blob at (${x}, ${y}): alone (${ax.toFixed(3)}, ${ay.toFixed(3)}), ensemble (${bx.toFixed(3)}, ${by.toFixed(3)})`);
    tf.dispose([input, alone, both]);
  }
});

test('a person\'s crop reaches each member made at the member\'s own size (flip test and scales included)', async () => {
  await useCpu();
  // Spies: centroid networks that keep what they were given.
  const seen: Record<number, number[][]> = { 64: [], 32: [] };
  const spy = (size: number): HourglassModel => {
    const net = centroidNet(size);
    const predict = net.predict.bind(net);
    net.predict = (images: Tensor4D) => {
      seen[size].push(Array.from(images.dataSync()));
      return predict(images);
    };
    return net;
  };
  const ensemble = new Ensemble([spy(64), spy(32)]);
  assert.deepEqual(ensemble.inputSizes, [32]);
  const w = 90, h = 70;
  const data = new Uint8Array(w * h * 3).map((_, i) => (i * 37) % 251);
  const raster = { data, width: w, height: h, channels: 3 };
  const box = { x: 20, y: 10, width: 30, height: 44 };
  const one: Skeleton = { id: 'one', joints: ['a'], flipPairs: [], edges: [], groups: [] };
  await keypointsInBox(ensemble, one, [0], raster, box, { scales: [1, 0.9] });
  const crop = cropForBox(box, BBOX_MARGIN);
  for (const size of [64, 32]) {
    // One run per scale, each of the crop and its mirror.
    assert.equal(seen[size].length, 2);
    seen[size].forEach((got, j) => {
      const factor = [1, 0.9][j];
      const direct = prepareInput(raster, cropTransform({ ...crop, scale: crop.scale * factor }, { width: size, height: size }), size);
      assert.equal(got.length, 2 * direct.length);
      const worst = direct.reduce((m, v, i) => Math.max(m, Math.abs(v - got[i])), 0);
      assert.ok(worst < 1e-6, `member of ${size} px, scale ${factor}: its crop differs from a direct crop by ${worst}`);
    });
  }
});

test('an ensemble of a network with itself predicts what the network does; members must predict the same joints', async () => {
  await useCpu();
  const model = HourglassModel.create({ stacks: 1, features: 8, joints: 14, inputSize: 32, depth: 3 }, 5);
  const twin = HourglassModel.create({ stacks: 1, features: 8, joints: 14, inputSize: 32, depth: 3 }, 5);
  const ensemble = new Ensemble([model, twin]);
  const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 9) as Tensor4D;
  const a = model.predict(x);
  const b = ensemble.predict(x);
  const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
  assert.ok(diff < 1e-6, `largest difference ${diff}`);
  assert.equal(describeNetwork(ensemble), 'ensemble of 2: (1 stack, 8 features, 32 px, depth 3) + (1 stack, 8 features, 32 px, depth 3)');
  assert.throws(() => ensemble.predict(tf.zeros([1, 16, 16, 3]) as Tensor4D), /model input must be \[N, 32, 32, 3\], got \[1, 16, 16, 3\]/);
  tf.dispose([x, a, b]);
  ensemble.dispose();
  assert.throws(() => ensemble.predict(x), /disposed/);

  const k14 = HourglassModel.create({ stacks: 1, features: 8, joints: 14, inputSize: 32, depth: 3 }, 1);
  const k16 = HourglassModel.create({ stacks: 1, features: 8, joints: 16, inputSize: 32, depth: 3 }, 1);
  assert.throws(() => new Ensemble([k14, k16]), /ensemble member 2 predicts 16 joints, member 1 14/);
  assert.throws(() => new Ensemble([k14]), /an ensemble needs 2 to 4 networks, got 1/);
  k14.dispose();
  k16.dispose();
});

test('a model spec with commas loads an ensemble; missing members, empty parts and other skeletons are refused', async () => {
  await useCpu();
  const dir = mkdtempSync(join(tmpdir(), 'hg-ensemble-'));
  const small = join(dir, 'small.ckpt');
  const large = join(dir, 'large.ckpt');
  const mpii = join(dir, 'mpii.ckpt');
  const save = async (file: string, inputSize: number, joints: number, skeleton: string) => {
    const m = HourglassModel.create({ stacks: 1, features: 8, joints, inputSize, depth: 3 }, 2);
    await saveModel(file, m, { meta: { skeleton } });
    m.dispose();
  };
  await save(small, 32, 14, 'lsp14');
  await save(large, 64, 14, 'lsp14');
  await save(mpii, 32, 16, 'mpii16');

  assert.deepEqual(modelSpecPaths(`${small},${large}`), [small, large]);
  const { model, meta, paths } = loadPoseNetwork(`${small}, ${large}`);
  assert.ok(model instanceof Ensemble);
  assert.deepEqual(model.config, { inputSize: 64, joints: 14 });
  assert.equal(meta.skeleton, 'lsp14');
  assert.deepEqual(paths, [small, large]);
  model.dispose();
  assert.ok(loadPoseNetwork(small).model instanceof HourglassModel);

  assert.throws(() => modelSpecPaths(`${small},${join(dir, 'absent.ckpt')}`), /absent\.ckpt: checkpoint file not found/);
  assert.throws(() => modelSpecPaths(`${small},,${large}`), /none empty/);
  assert.throws(() => modelSpecPaths([small, small, small, small, small].join(',')), /at most 4 networks in an ensemble, got 5/);
  assert.throws(() => loadPoseNetwork(`${small},${mpii}`), /ensemble: .*mpii\.ckpt predicts the joints of mpii16, .*small\.ckpt those of lsp14/);

  // The CLI takes the same spec: eval runs the ensemble and names both files.
  const io = capture();
  assert.equal(await main(['eval', '--dataset', 'lspet', '--root', join(FIXTURES, 'lspet'), '--images', '1-4', '--model', `${small},${large}`, '--backend', 'cpu', '--json'], io), 0, io.errors.join('\n'));
  const r = JSON.parse(io.lines[0]) as { samples: number; predictions: { model: string } };
  assert.equal(r.samples, 4);
  assert.equal(r.predictions.model, `${small},${large}`);
});
