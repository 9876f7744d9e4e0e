// Benchmark of the data pipeline alone (docs/design.md "Pipeline", docs/method.md "Data preparation and augmentation"):
// images/s of createTrainSource on real LSPET images at 256 and 128 px input, 1 and 2 workers, plus a one-thread
// breakdown (decode vs crop/augment/encode). Usage: node dist/bench/pipeline.js [root] [--batches N] [--images 1-2000]
import { performance } from 'node:perf_hooks';
import { HeatmapCodec } from '../src/codec/heatmap.js';
import { DEFAULT_AUGMENTATION, sampleAugmentation } from '../src/data/augment.js';
import { loadImage } from '../src/data/image.js';
import { prepareSample } from '../src/data/prepare.js';
import { readDataset } from '../src/data/readers/index.js';
import { measurePipeline } from '../src/data/throughput.js';
import type { RgbImage } from '../src/data/image.js';
import { flipPermutation } from '../src/data/skeletons/types.js';
import { deriveSeed, Rng } from '../src/util/rng.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const root = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : '/work/shared/data/lspet';
const batches = Number(flag('--batches', '40'));
const images = flag('--images', '1-2000');
const batchSize = 16;

const dataset = await readDataset({ format: 'lspet', root, images });
const flipPerm = flipPermutation(dataset.skeleton);
const K = dataset.skeleton.joints.length;
const results: Record<string, number> = {};

// One thread, no workers: where the time goes.
{
  const n = 200;
  const samples = dataset.samples.slice(0, n);
  let t = performance.now();
  const decoded: RgbImage[] = [];
  for (const s of samples) decoded.push(await loadImage(s.imagePath));
  const decodeMs = (performance.now() - t) / n;
  const px = decoded.reduce((a, im) => a + im.width * im.height, 0) / n;
  results.decode_ms = decodeMs;
  console.log(`decode (sharp, 1 thread): ${decodeMs.toFixed(2)} ms/image, mean ${Math.round(px)} px`);
  for (const S of [256, 128]) {
    const codec = new HeatmapCodec({ size: { width: S / 4, height: S / 4 }, sigma: 1 });
    t = performance.now();
    for (let i = 0; i < n; i++) {
      const augmentation = sampleAugmentation(new Rng(deriveSeed(1, 0, i)), DEFAULT_AUGMENTATION);
      prepareSample(decoded[i], samples[i], { inputSize: S, heatmapSize: S / 4, codec, flipPerm, boxRule: dataset.boxRule, augmentation });
    }
    const ms = (performance.now() - t) / n;
    results[`prepare_${S}_ms`] = ms;
    console.log(`crop+augment+targets ${S}px (1 thread): ${ms.toFixed(2)} ms/image`);
  }
}

for (const S of [256, 128]) {
  for (const workers of [1, 2]) {
    const r = await measurePipeline({
      inputSize: S, heatmapSize: S / 4, sigma: 1, joints: K, flipPerm, workers, prefetch: 4,
      datasets: [dataset], batchSize, seed: 1, startEpoch: 0, startStep: 0, augmentation: {},
    }, batches);
    results[`train_${S}px_${workers}w_img_s`] = r.imagesPerSecond;
    console.log(`pipeline ${S}px, ${workers} worker${workers > 1 ? 's' : ''}, batch ${batchSize}: ${r.imagesPerSecond.toFixed(1)} images/s`);
  }
}
console.log(JSON.stringify({ bench: 'pipeline', root, images, batches, batchSize, ...results }));
