// The data pipeline's own rate for `hourglass bench` (issue "Data and training": the pipeline must deliver >= 3x the
// images/s training consumes): measurePipeline on LSPET when its folder is present, else on generated JPEGs.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { readDataset } from '../data/readers/index.js';
import type { Dataset, Sample } from '../data/sample.js';
import { LSP14 } from '../data/skeletons/lsp.js';
import { flipPermutation } from '../data/skeletons/types.js';
import { measurePipeline } from '../data/throughput.js';
import { heatmapSize } from '../model/config.js';

export interface PipelineRate {
  readonly inputSize: number;
  readonly batch: number;
  readonly workers: number;
  readonly imagesPerSecond: number;
  /** What was read: 'lspet <root>' or 'generated <n> JPEGs <w>x<h>'. */
  readonly data: string;
}

const GENERATED = { count: 48, width: 400, height: 300 } as const;

/** A dataset of noise JPEGs (LSP skeleton, one centred person box each) written to `dir`. */
async function generatedDataset(dir: string): Promise<Dataset> {
  const { count, width, height } = GENERATED;
  const samples: Sample[] = [];
  const k = LSP14.joints.length;
  for (let i = 1; i <= count; i++) {
    const imagePath = join(dir, `im${i}.jpg`);
    await sharp({ create: { width, height, channels: 3, background: { r: 90, g: 120, b: 150 }, noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
      .jpeg({ quality: 90 }).toFile(imagePath);
    const joints = Float32Array.from({ length: 2 * k }, (_, j) => (j % 2 ? 80 + ((j * 37 + i) % 140) : 130 + ((j * 53 + i) % 140)));
    samples.push({ id: `generated:${i}`, index: i, imagePath, joints, visible: new Uint8Array(k).fill(1), center: [width / 2, height / 2], scale: 1.2 });
  }
  return { name: 'generated', skeleton: LSP14, samples, boxRule: 'as-is', source: dir };
}

/**
 * Images/s of the training pipeline at each (input size, batch), with `workers` threads, over `batches` batches.
 * `lspetRoot`: LSPET folder to read (records 1-2000) when it exists.
 */
export async function measurePipelines(
  shapes: readonly { readonly inputSize: number; readonly batch: number }[], lspetRoot: string, workers: number, batches: number,
): Promise<PipelineRate[]> {
  const real = existsSync(join(lspetRoot, 'joints.mat')) && existsSync(join(lspetRoot, 'images'));
  const dir = real ? null : await mkdtemp(join(tmpdir(), 'hourglass-bench-'));
  try {
    const dataset = dir ? await generatedDataset(dir) : await readDataset({ format: 'lspet', root: lspetRoot, images: '1-2000' });
    const data = dir ? `generated ${GENERATED.count} JPEGs ${GENERATED.width}x${GENERATED.height}` : `lspet ${lspetRoot}`;
    const rates: PipelineRate[] = [];
    for (const { inputSize, batch } of shapes) {
      const r = await measurePipeline({
        inputSize, heatmapSize: heatmapSize({ inputSize }), sigma: 1, joints: dataset.skeleton.joints.length, flipPerm: flipPermutation(dataset.skeleton),
        workers, prefetch: 4, datasets: [dataset], batchSize: batch, seed: 1, startEpoch: 0, startStep: 0, augmentation: {},
      }, batches);
      rates.push({ inputSize, batch, workers, imagesPerSecond: r.imagesPerSecond, data });
    }
    return rates;
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
