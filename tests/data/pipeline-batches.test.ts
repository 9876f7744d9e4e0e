// Tests of the worker-thread batch pipeline (src/data/batches.ts): identical batches with 1 or 2 workers, exact
// resume from (epoch, step), seeded epoch shuffles, evaluation order, errors naming the file, no leaked workers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { HeatmapCodec } from '../../src/codec/heatmap.js';
import { createEvalSource, createTrainSource } from '../../src/data/batches.js';
import type { EvalBatch, TrainBatch, TrainSource, TrainSourceOptions } from '../../src/data/batches.js';
import { loadImage } from '../../src/data/image.js';
import { prepareInput, prepareSample, sampleFrames } from '../../src/data/prepare.js';
import { IDENTITY_AUGMENTATION } from '../../src/data/augment.js';
import { cropTransform } from '../../src/geometry/affine.js';
import { cropBox, type Dataset, type Sample } from '../../src/data/sample.js';
import { LSP14 } from '../../src/data/skeletons/lsp.js';
import { flipPermutation } from '../../src/data/skeletons/types.js';
import { FileFormatError } from '../../src/errors.js';
import { Rng } from '../../src/util/rng.js';

const K = 14;
const FLIP = flipPermutation(LSP14);
let dir = '';
let lspA: Dataset;
let lspB: Dataset;

async function makeDataset(name: string, count: number, boxRule: 'as-is' | 'mpii', seed: number): Promise<Dataset> {
  const rng = new Rng(seed);
  const samples: Sample[] = [];
  for (let i = 1; i <= count; i++) {
    const w = 40 + rng.int(20);
    const h = 30 + rng.int(20);
    const pixels = Buffer.from(Array.from({ length: w * h * 3 }, () => rng.int(256)));
    const imagePath = join(dir, `${name}-${i}.png`);
    await sharp(pixels, { raw: { width: w, height: h, channels: 3 } }).png().toFile(imagePath);
    const joints = new Float32Array(2 * K).map((_, j) => (j % 2 === 0 ? rng.uniform(0, w) : rng.uniform(0, h)));
    const visible = new Uint8Array(K).map(() => (rng.uniform() < 0.8 ? 1 : 0));
    samples.push({ id: `${name}:${i}`, index: i, imagePath, joints, visible, center: [w / 2, h / 2], scale: h / 200 });
  }
  return { name, skeleton: LSP14, samples, boxRule, source: join(dir, `${name}.json`) };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hg-pipeline-'));
  lspA = await makeDataset('a', 8, 'as-is', 1);
  lspB = await makeDataset('b', 5, 'mpii', 2);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const options = (over: Partial<TrainSourceOptions> = {}): TrainSourceOptions => ({
  inputSize: 32, heatmapSize: 8, sigma: 1, joints: K, flipPerm: FLIP, workers: 1, prefetch: 2,
  datasets: [lspA, lspB], batchSize: 4, seed: 11, startEpoch: 0, startStep: 0, augmentation: {}, ...over,
});

async function take(source: TrainSource, n: number): Promise<TrainBatch[]> {
  try {
    const out: TrainBatch[] = [];
    for (let i = 0; i < n; i++) out.push(await source.next());
    return out;
  } finally {
    await source.close();
  }
}

function assertSameBatches(a: TrainBatch[], b: TrainBatch[]): void {
  assert.equal(a.length, b.length);
  a.forEach((x, i) => {
    const y = b[i];
    assert.deepEqual([x.epoch, x.stepInEpoch, x.size, x.sampleIds], [y.epoch, y.stepInEpoch, y.size, y.sampleIds], `batch ${i}`);
    assert.ok(Buffer.from(x.inputs.buffer).equals(Buffer.from(y.inputs.buffer)), `batch ${i}: inputs differ`);
    assert.ok(Buffer.from(x.targets.buffer).equals(Buffer.from(y.targets.buffer)), `batch ${i}: targets differ`);
    assert.ok(Buffer.from(x.weights.buffer).equals(Buffer.from(y.weights.buffer)), `batch ${i}: weights differ`);
  });
}

/** The reference: 8 batches of an uninterrupted one-worker source (computed once, shared by the tests below). */
let reference: Promise<TrainBatch[]> | null = null;
const uninterrupted = (): Promise<TrainBatch[]> => (reference ??= take(createTrainSource(options({ workers: 1 })), 8));

test('batches are identical with 1 or 2 workers, and have the documented shapes', async () => {
  const one = await uninterrupted();
  const two = await take(createTrainSource(options({ workers: 2, prefetch: 4 })), 8);
  assertSameBatches(one, two);
  const b = one[0];
  assert.deepEqual([b.inputs.length, b.targets.length, b.weights.length], [4 * 32 * 32 * 3, 4 * 8 * 8 * K, 4 * K]);
  assert.ok(b.inputs.every((v) => v >= 0 && v <= 1));
  // 13 samples, batch 4: 3 steps per epoch, the 13th sample of each epoch's order is dropped.
  assert.deepEqual(one.map((x) => [x.epoch, x.stepInEpoch]), [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2], [2, 0], [2, 1]]);
});

test('a source started at (epoch, step) yields exactly what an uninterrupted one yields there', async () => {
  const full = await uninterrupted();
  const resumed = await take(createTrainSource(options({ startEpoch: 1, startStep: 2, workers: 2 })), 3);
  assertSameBatches(resumed, full.slice(5, 8));
  // a position after an epoch's last step (startStep = stepsPerEpoch) starts the next epoch
  const after = await take(createTrainSource(options({ startEpoch: 0, startStep: 3, workers: 2 })), 2);
  assert.deepEqual(after.map((x) => [x.epoch, x.stepInEpoch]), [[1, 0], [1, 1]]);
  assertSameBatches(after, full.slice(3, 5));
});

test('epochs are seeded shuffles of all datasets; the seed changes order and augmentation', async () => {
  const batches = await uninterrupted();
  const epoch = (e: number): string[] => batches.filter((b) => b.epoch === e).flatMap((b) => b.sampleIds);
  for (const e of [0, 1]) {
    assert.equal(new Set(epoch(e)).size, 12);
    assert.ok(epoch(e).every((id) => /^[ab]:\d+$/.test(id)));
  }
  assert.notDeepEqual(epoch(0), epoch(1));
  const other = await take(createTrainSource(options({ seed: 12 })), 1);
  assert.ok(!Buffer.from(other[0].inputs.buffer).equals(Buffer.from(batches[0].inputs.buffer)));
  assert.notDeepEqual(other[0].sampleIds, batches[0].sampleIds);
});

test('without augmentation a training example is the plain crop of prepareSample', async () => {
  const [batch] = await take(createTrainSource(options({ augmentation: null })), 1);
  const id = batch.sampleIds[1];
  const sample = [...lspA.samples, ...lspB.samples].find((s) => s.id === id) as Sample;
  const codec = new HeatmapCodec({ size: { width: 8, height: 8 }, sigma: 1 });
  const boxRule = id.startsWith('a:') ? 'as-is' : 'mpii';
  const want = prepareSample(await loadImage(sample.imagePath), sample, { inputSize: 32, heatmapSize: 8, codec, flipPerm: FLIP, boxRule, augmentation: null });
  assert.deepEqual(batch.inputs.subarray(32 * 32 * 3, 2 * 32 * 32 * 3), want.input);
  assert.deepEqual(batch.targets.subarray(8 * 8 * K, 2 * 8 * 8 * K), want.heatmaps);
  assert.deepEqual(batch.weights.subarray(K, 2 * K), want.weights);
});

test('evaluation: dataset order, last batch smaller, frames of the plain crop, repeatable passes', async () => {
  const source = createEvalSource({ inputSize: 32, heatmapSize: 8, sigma: 1, joints: K, flipPerm: FLIP, workers: 2, datasets: [lspA, lspB], batchSize: 5 });
  try {
    assert.equal(source.batches, 3);
    const pass = async (): Promise<{ ids: string[]; sizes: number[]; inputs: Float32Array[] }> => {
      const ids: string[] = [];
      const sizes: number[] = [];
      const inputs: Float32Array[] = [];
      for await (const b of source) {
        assert.equal(b.inputs.length, b.size * 32 * 32 * 3);
        assert.equal(b.imageToHeatmap.length, b.size);
        ids.push(...b.samples.map((s) => s.id));
        sizes.push(b.size);
        inputs.push(b.inputs);
      }
      return { ids, sizes, inputs };
    };
    const first = await pass();
    assert.deepEqual(first.ids, [...lspA.samples, ...lspB.samples].map((s) => s.id));
    assert.deepEqual(first.sizes, [5, 5, 3]);
    const second = await pass();
    assert.deepEqual(second.inputs, first.inputs);
    // Breaking out of a pass is fine too.
    for await (const b of source) {
      assert.equal(b.size, 5);
      break;
    }
  } finally {
    await source.close();
  }
});

test('evaluation with scales: each sample also cropped at each factor of its crop box, same centre, both box rules', async () => {
  const scales = [0.8, 1.25];
  const source = createEvalSource({ inputSize: 32, heatmapSize: 8, sigma: 1, joints: K, flipPerm: FLIP, workers: 2, datasets: [lspA, lspB], batchSize: 5, scales });
  const plain = createEvalSource({ inputSize: 32, heatmapSize: 8, sigma: 1, joints: K, flipPerm: FLIP, workers: 1, datasets: [lspA, lspB], batchSize: 5 });
  try {
    const plainBatches: EvalBatch[] = [];
    for await (const b of plain) plainBatches.push(b);
    let i = 0;
    for await (const b of source) {
      const p = plainBatches[i++];
      assert.deepEqual(b.inputs, p.inputs); // the factor-1 crops and their frames are unchanged
      assert.deepEqual(b.imageToHeatmap, p.imageToHeatmap);
      assert.deepEqual(b.rescaled.map((r) => r.factor), scales);
      for (const [j, sample] of b.samples.entries()) {
        const image = await loadImage(sample.imagePath);
        const boxRule = lspA.samples.includes(sample) ? lspA.boxRule : lspB.boxRule;
        for (const r of b.rescaled) {
          const frames = sampleFrames(sample, { inputSize: 32, heatmapSize: 8, boxRule, augmentation: { ...IDENTITY_AUGMENTATION, scaleFactor: r.factor } });
          const box = cropBox(sample, boxRule);
          const direct = cropTransform({ center: box.center, scale: box.scale * r.factor }, { width: 32, height: 32 });
          assert.deepEqual(frames.imageToInput, direct);
          assert.deepEqual(r.inputs.subarray(j * 32 * 32 * 3, (j + 1) * 32 * 32 * 3), prepareInput(image, direct, 32), `${sample.id} x${r.factor}`);
        }
      }
    }
    assert.equal(i, 3);
  } finally {
    await source.close();
    await plain.close();
  }
  assert.throws(() => createEvalSource({ inputSize: 32, heatmapSize: 8, sigma: 1, joints: K, flipPerm: FLIP, datasets: [lspA], batchSize: 5, scales: [0] }), /positive numbers, got 0/);
});

test('evaluation with other sizes: each crop (and each scale\'s) also made at each size, as a source of that input size makes it', async () => {
  const scales = [0.8];
  const both = createEvalSource({ inputSize: 32, heatmapSize: 8, sigma: 1, joints: K, flipPerm: FLIP, workers: 2, datasets: [lspA, lspB], batchSize: 5, scales, sizes: [16] });
  const small = createEvalSource({ inputSize: 16, heatmapSize: 4, sigma: 1, joints: K, flipPerm: FLIP, workers: 1, datasets: [lspA, lspB], batchSize: 5, scales });
  const large = createEvalSource({ inputSize: 32, heatmapSize: 8, sigma: 1, joints: K, flipPerm: FLIP, workers: 1, datasets: [lspA, lspB], batchSize: 5, scales });
  try {
    const smalls: EvalBatch[] = [];
    for await (const b of small) smalls.push(b);
    const larges: EvalBatch[] = [];
    for await (const b of large) larges.push(b);
    let i = 0;
    for await (const b of both) {
      assert.deepEqual(b.inputs, larges[i].inputs);
      assert.deepEqual(b.imageToHeatmap, larges[i].imageToHeatmap);
      assert.equal(b.sized.length, 1);
      assert.equal(b.sized[0].size, 16);
      assert.deepEqual(b.sized[0].inputs, smalls[i].inputs);
      assert.deepEqual(b.sized[0].rescaled, smalls[i].rescaled.map((r) => r.inputs));
      i++;
    }
    assert.equal(i, 3);
  } finally {
    await both.close();
    await small.close();
    await large.close();
  }
  assert.throws(() => createEvalSource({ inputSize: 32, heatmapSize: 8, sigma: 1, joints: K, flipPerm: FLIP, datasets: [lspA], batchSize: 5, sizes: [10] }), /multiples of 4, got 10/);
});

test('a corrupt image rejects next() with a FileFormatError naming the file', async () => {
  const bad = join(dir, 'corrupt.jpg');
  writeFileSync(bad, Buffer.from('definitely not a jpeg'));
  const broken: Dataset = { ...lspA, samples: lspA.samples.map((s, i) => (i === 3 ? { ...s, imagePath: bad } : s)) };
  const source = createTrainSource(options({ datasets: [broken], workers: 2, augmentation: null, batchSize: 8 }));
  try {
    await assert.rejects(source.next(), (err: unknown) => err instanceof FileFormatError && err.file === bad && err.message.includes('corrupt.jpg'));
  } finally {
    await source.close();
  }
  await assert.rejects(source.next(), /closed/);
});

test('bad options are rejected up front', async () => {
  const ok = createTrainSource(options());
  assert.deepEqual([ok.stepsPerEpoch, ok.samples], [3, 13]);
  await ok.close();
  assert.throws(() => createTrainSource(options({ batchSize: 20 })), /batchSize 20 is larger than the 13 training samples/);
  // startStep may equal stepsPerEpoch (a checkpoint of an epoch's last step), not more
  assert.throws(() => createTrainSource(options({ startStep: 4 })), /startStep must be an integer in \[0, 3\], got 4/);
  assert.throws(() => createTrainSource(options({ startStep: -1 })), /startStep must be an integer in \[0, 3\], got -1/);
  assert.throws(() => createTrainSource(options({ joints: 16, flipPerm: [...Array(16).keys()] })), /has 14 joints/);
});

test('a source that is never closed does not keep the process alive', () => {
  const batches = new URL('../../src/data/batches.js', import.meta.url).href; // the compiled module beside this test
  const script = `
    import { createTrainSource } from ${JSON.stringify(batches)};
    const datasets = JSON.parse(process.argv[1]).map((d) => ({ ...d, samples: d.samples.map((s) => ({ ...s,
      joints: Float32Array.from(s.joints), visible: Uint8Array.from(s.visible) })) }));
    const source = createTrainSource({ inputSize: 32, heatmapSize: 8, sigma: 1, joints: 14, flipPerm: ${JSON.stringify(FLIP)},
      workers: 2, datasets, batchSize: 4, seed: 1, startEpoch: 0, startStep: 0, augmentation: {} });
    const b = await source.next();
    console.log('got', b.size);
  `;
  const plain = [lspA, lspB].map((d) => ({ ...d, samples: d.samples.map((s) => ({ ...s, joints: [...s.joints], visible: [...s.visible] })) }));
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(plain)], { timeout: 20_000, encoding: 'utf8' });
  assert.equal(r.signal, null, 'the child was killed by the timeout: workers kept it alive');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /got 4/);
});
