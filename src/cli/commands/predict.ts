// `hourglass predict IMAGE...`: for each image, the pose as JSON and an overlay PNG with the skeleton drawn.
// Without images it runs on the sample images shipped in the package (the main job on defaults).
// Without --box the person is assumed to fill the image (the LSP convention; see src/api/estimator.ts).
import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../args.js';
import type { Command } from '../command.js';
import { HourglassError, InvalidArgumentError } from '../../errors.js';
import { createEstimator, type Box } from '../../api/estimator.js';
import { predictImage, writePrediction, type PredictResult } from '../../api/prediction.js';
import { DEFAULT_MODEL } from '../../api/models.js';
import { parseBackendName } from '../../backend/select.js';
import { parseScales } from '../../eval/infer.js';
import { IMAGE_EXTENSIONS } from '../../data/image.js';

/** The sample images shipped in the package (samples/ATTRIBUTION.md). */
export const SAMPLES_DIR = fileURLToPath(new URL('../../../../samples/', import.meta.url));

const FLAGS = {
  box: { type: 'string', help: 'the person box x,y,width,height in pixels (default: the whole image)' },
  model: { type: 'string', help: 'checkpoint to run, or a bundled model: lsp14 (default, full body), flic (upper body)' },
  out: { type: 'string', help: 'folder for the JSON and overlay files (default predictions)' },
  json: { type: 'boolean', help: 'print the results as one JSON array on stdout' },
  'no-overlay': { type: 'boolean', help: 'write only the JSON files' },
  'no-flip-test': { type: 'boolean', help: 'no flip test (twice as fast, a little less accurate)' },
  scales: { type: 'string', help: 'multi-scale test: crop sizes whose heatmaps are averaged, including 1 (e.g. 0.8,0.9,1,1.1,1.2; default 1; one more run each)' },
  backend: { type: 'string', help: 'auto (default), native, wasm, cpu, tensorflow' },
} as const;

export function parseBox(spec: string): Box {
  const parts = spec.split(',').map((p) => p.trim());
  const values = parts.map(Number);
  if (parts.length !== 4 || !values.every(Number.isFinite)) throw new InvalidArgumentError(`--box must be x,y,width,height (four numbers), got '${spec}'`);
  const [x, y, width, height] = values;
  if (!(width >= 1 && height >= 1)) throw new InvalidArgumentError(`--box width and height must be at least 1, got '${spec}'`);
  return { x, y, width, height };
}

export function sampleImages(): string[] {
  if (!existsSync(SAMPLES_DIR)) return [];
  return readdirSync(SAMPLES_DIR).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort().map((f) => join(SAMPLES_DIR, f));
}

/** Output stems, unique even when two inputs share a file name (a/x.jpg, b/x.jpg -> x, x-2). */
function stems(images: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return images.map((img) => {
    const stem = basename(img, extname(img)) || 'image';
    const n = (seen.get(stem) ?? 0) + 1;
    seen.set(stem, n);
    return n === 1 ? stem : `${stem}-${n}`;
  });
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'pose of the person in each image: a JSON file and an overlay PNG per image',
  usage: 'predict [IMAGE...] [--box x,y,w,h] [--model PATH] [--out DIR] [--scales LIST] [--json]',
  flags: FLAGS,
  async run(argv, io) {
    const { flags, positionals } = parseArgs(argv, FLAGS);
    const box = flags.box !== undefined ? parseBox(flags.box) : undefined;
    const scales = flags.scales === undefined ? undefined : parseScales(flags.scales);
    let images = positionals;
    if (images.length === 0) {
      images = sampleImages();
      if (images.length === 0) throw new InvalidArgumentError('no images given and no sample images found; usage: hourglass predict IMAGE...');
      io.err(`no images given: predicting the ${images.length} sample images in ${SAMPLES_DIR}`);
    }
    const out = flags.out ?? 'predictions';
    const estimator = await createEstimator({ model: flags.model, backend: parseBackendName(flags.backend ?? 'auto') });
    const c = estimator.model.config;
    io.err(`model: ${flags.model ?? DEFAULT_MODEL.name} (${c.stacks} stack${c.stacks === 1 ? '' : 's'}, ${c.features} features, ` +
      `${c.inputSize} px), backend ${estimator.backend}`);
    const results: PredictResult[] = [];
    let failed = 0;
    try {
      const names = stems(images);
      for (let i = 0; i < images.length; i++) {
        const image = images[i];
        try {
          const p = await predictImage(estimator, image, { box, flipTest: !flags['no-flip-test'], scales });
          const { pose, ms } = p;
          const jsonPath = join(out, `${names[i]}.json`);
          const overlayPath = flags['no-overlay'] ? null : join(out, `${names[i]}.png`);
          const result = await writePrediction(estimator, p, jsonPath, overlayPath);
          results.push(result);
          const mean = pose.keypoints.reduce((s, k) => s + k.score, 0) / pose.keypoints.length;
          io.err(`${image}: ${pose.imageSize.width}x${pose.imageSize.height}, ${pose.keypoints.length} joints, mean score ${mean.toFixed(2)}, ` +
            `${ms.toFixed(0)} ms -> ${overlayPath ? `${overlayPath}, ` : ''}${jsonPath}`);
        } catch (err) {
          if (!(err instanceof HourglassError)) throw err;
          failed++;
          io.err(`error: ${err.message}`);
        }
      }
    } finally {
      estimator.dispose();
    }
    if (flags.json) io.out(JSON.stringify(results));
    if (failed > 0) {
      io.err(`${failed} of ${images.length} images failed; the others' results are in ${out}`);
      return 2;
    }
    return 0;
  },
};
