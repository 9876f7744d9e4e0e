// `hourglass predict IMAGE...`: for each image, the pose as JSON and an overlay PNG with the skeleton drawn.
// Without images it runs on the sample images shipped in the package (the main job on defaults).
// Without --box or --boxes the people are searched for (src/detect/); an image without one gets a warning line.
import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../args.js';
import type { Command } from '../command.js';
import { HourglassError, InvalidArgumentError } from '../../errors.js';
import { createEstimator, type Box } from '../../api/estimator.js';
import { predictImage, writePrediction, type PredictResult } from '../../api/prediction.js';
import { bundledNames, DEFAULT_MODEL } from '../../api/models.js';
import { removeStaleTemps } from '../../util/atomic.js';
import { mkdirSync } from 'node:fs';
import { parseBackendName } from '../../backend/select.js';
import { parsePrecision } from '../../backend/precision.js';
import { parseScales } from '../../inference/multi-scale.js';
import { describeNetwork } from '../../inference/ensemble.js';
import { readDetections } from '../../detect/boxes-file.js';
import { DEFAULT_MIN_PERSON_SCORE } from '../../detect/detector.js';
import { expandImageArguments, isImageName, refuseOverwritingInputs } from '../images.js';

/** The sample images shipped in the package (samples/ATTRIBUTION.md). */
export const SAMPLES_DIR = fileURLToPath(new URL('../../../../samples/', import.meta.url));

/** The person search's limits, taken by predict and enqueue. */
export const PEOPLE_FLAGS = {
  'max-people': { type: 'string', help: 'at most this many people per image (default 20)' },
  'min-person-score': { type: 'string', help: `people scoring lower are left out (default ${DEFAULT_MIN_PERSON_SCORE})` },
} as const;

const FLAGS = {
  box: { type: 'string', help: 'the person box x,y,width,height in pixels (default: the people are searched for)' },
  boxes: { type: 'string', help: 'people\'s boxes from a COCO-style detections JSON file (image_id, bbox, score) instead of the search' },
  ...PEOPLE_FLAGS,
  model: { type: 'string', help: `checkpoint to run, or a bundled model (${bundledNames()}; default ${DEFAULT_MODEL.name}: docs/models/); several joined by commas run as an ensemble (heatmaps averaged)` },
  out: { type: 'string', help: 'folder for the JSON and overlay files (default predictions); never over an input image' },
  recursive: { type: 'boolean', help: 'a folder argument also means the images in its subfolders' },
  json: { type: 'boolean', help: 'print the results as one JSON array on stdout' },
  'no-overlay': { type: 'boolean', help: 'write only the JSON files' },
  'no-flip-test': { type: 'boolean', help: 'no flip test (twice as fast, a little less accurate)' },
  scales: { type: 'string', help: 'multi-scale test: crop sizes whose heatmaps are averaged, including 1 (e.g. 0.8,0.9,1,1.1,1.2; default 1; one more run each)' },
  backend: { type: 'string', help: 'auto (default), native, wasm, cpu, tensorflow, webgpu (a GPU through Dawn: npm install webgpu)' },
  precision: { type: 'string', help: 'fp32 (default), bf16 (native, CPUs with bf16 instructions; heatmaps within 2e-2 of fp32) or auto' },
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
  return readdirSync(SAMPLES_DIR).filter(isImageName).sort().map((f) => join(SAMPLES_DIR, f));
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

/** --max-people and --min-person-score, checked (undefined where not given). */
export function peopleLimits(flags: { 'max-people'?: string; 'min-person-score'?: string }): { maxPeople?: number; minPersonScore?: number } {
  return {
    maxPeople: flags['max-people'] === undefined ? undefined : positiveInt(flags['max-people'], 'max-people'),
    minPersonScore: flags['min-person-score'] === undefined ? undefined : unitNumber(flags['min-person-score'], 'min-person-score'),
  };
}

function positiveInt(spec: string, flag: string): number {
  const n = Number(spec);
  if (!/^\d+$/.test(spec.trim()) || !(n >= 1)) throw new InvalidArgumentError(`--${flag} must be a positive integer, got '${spec}'`);
  return n;
}

function unitNumber(spec: string, flag: string): number {
  const n = Number(spec);
  if (spec.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError(`--${flag} must be a number in [0, 1], got '${spec}'`);
  return n;
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'pose of the person in each image: a JSON file and an overlay PNG per image',
  usage: 'predict [IMAGE|FOLDER...] [--recursive] [--box x,y,w,h | --boxes FILE] [--max-people N] [--min-person-score S] [--model PATH] [--out DIR] [--scales LIST] [--json]',
  flags: FLAGS,
  async run(argv, io) {
    const { flags, positionals } = parseArgs(argv, FLAGS);
    const box = flags.box !== undefined ? parseBox(flags.box) : undefined;
    const scales = flags.scales === undefined ? undefined : parseScales(flags.scales);
    if (box && flags.boxes !== undefined) throw new InvalidArgumentError('give either --box or --boxes, not both');
    const { maxPeople, minPersonScore } = peopleLimits(flags);
    const detections = flags.boxes === undefined ? null : readDetections(flags.boxes);
    const out = flags.out ?? 'predictions';
    let images = expandImageArguments(positionals, { recursive: flags.recursive, outDir: out });
    if (images.length === 0) {
      images = sampleImages();
      if (images.length === 0) throw new InvalidArgumentError('no images given and no sample images found; usage: hourglass predict IMAGE...');
      io.err(`no images given: predicting the ${images.length} sample images in ${SAMPLES_DIR}`);
    }
    const names = stems(images);
    const jsonPaths = names.map((n) => join(out, `${n}.json`));
    const overlayPaths = names.map((n) => (flags['no-overlay'] ? null : join(out, `${n}.png`)));
    refuseOverwritingInputs(images, [...jsonPaths, ...overlayPaths.filter((p): p is string => p !== null)],
      'choose another --out (the results are <name>.json and <name>.png)');
    mkdirSync(out, { recursive: true }); // an unusable --out fails here, before any work, as one line naming it
    removeStaleTemps(out);
    const estimator = await createEstimator({
      model: flags.model, backend: parseBackendName(flags.backend ?? 'auto'), precision: parsePrecision(flags.precision ?? 'fp32'),
    });
    io.err(`model: ${flags.model ?? DEFAULT_MODEL.name} (${describeNetwork(estimator.model)}), backend ${estimator.backend}, precision ${estimator.precision}`);
    const results: PredictResult[] = [];
    let failed = 0;
    try {
      for (let i = 0; i < images.length; i++) {
        const image = images[i];
        try {
          const p = await predictImage(estimator, image, (raster) => ({
            box, boxes: detections?.boxesFor(image, raster), maxPeople, minPersonScore, flipTest: !flags['no-flip-test'], scales,
          }));
          const { pose, ms } = p;
          const jsonPath = jsonPaths[i];
          const overlayPath = overlayPaths[i];
          const result = await writePrediction(estimator, p, jsonPath, overlayPath);
          results.push(result);
          if (pose.people.length === 0) io.err(`warning: no person found in ${image}${detections ? ` (no box for it in ${detections.path} scores ${minPersonScore ?? 0} or more)` : ''}`);
          const mean = pose.keypoints.reduce((s, k) => s + k.score, 0) / Math.max(1, pose.keypoints.length);
          io.err(`${image}: ${pose.imageSize.width}x${pose.imageSize.height}, ${pose.people.length} ${pose.people.length === 1 ? 'person' : 'people'}, ` +
            `first's mean joint score ${mean.toFixed(2)}, ${ms.toFixed(0)} ms -> ${overlayPath ? `${overlayPath}, ` : ''}${jsonPath}`);
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
      io.err(failed === images.length
        ? `${failed === 1 ? 'the image' : `all ${failed} images`} failed; no results written`
        : `${failed} of ${images.length} images failed; the others' results are in ${out}`);
      return 2;
    }
    return 0;
  },
};
