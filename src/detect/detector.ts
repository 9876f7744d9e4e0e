// Finding people in an image with the person detector (a HeatmapModel whose 3 channels are src/detect/codec.ts's):
// the image, area-shrunk once to at most 512 px, is searched whole (letterboxed into the network's square) for
// people of a sixth of it and up, and (images of 384 px and more) at twice that size in overlapping tiles for smaller
// people; the boxes of both
// are merged by non-maximum suppression. Pure TypeScript, shared by the Node estimator and the browser entry.
import { tf } from '../tf.js';
import type { Tensor4D } from '../tf.js';
import { InvalidArgumentError } from '../errors.js';
import type { RasterImage } from '../geometry/affine.js';
import type { HeatmapModel } from '../inference/heatmaps.js';
import { CHANNELS, decodeGrid, suppress, type GridDetection } from './codec.js';
import { pasteRect, shrinkToCanvas, type Rect } from './raster.js';
import { heatmapSize } from '../model/config.js';

export interface PersonDetection {
  /** The person's box in image pixels (edge units: x, y the top-left edge). */
  readonly box: Rect;
  /** The detector's confidence: its centre heatmap's peak (about 1 sure, near 0 nothing). */
  readonly score: number;
}

export interface DetectOptions {
  /** People with a lower score are not reported. Default DEFAULT_MIN_PERSON_SCORE. */
  readonly minScore?: number;
  /** At most this many people (the best-scoring). Default 20. */
  readonly maxPeople?: number;
}

/**
 * The person score threshold (src/api/people.ts personScore): chosen on scenes of LSPET 5501-6000 (held out from the
 * detector's training; not the benchmark's people) and person-free images, as the one with the most people found
 * minus person-free images reported (`node dist/bench/people.js --choose-threshold`, the check and the re-crop, with
 * the 128-feature detector of 2026-12-07: 0.15 94.0 - 10.7, **0.20 93.3 - 3.3**, 0.25 91.0 - 2.7, 0.30 87.0 - 2.0).
 */
export const DEFAULT_MIN_PERSON_SCORE = 0.2;
export const DEFAULT_MAX_PEOPLE = 20;
/** The longer side the image is shrunk to before the search. */
export const SEARCH_SIDE = 512;
/** Detections of the whole-image pass smaller than this (in network-input pixels) are left to the tiled pass. */
const WHOLE_MIN_SIDE = 20;
/** Detections of the tiled pass larger than this (in its input pixels) are left to the whole-image pass. */
const TILE_MAX_SIDE = 56;
/** Boxes overlapping more than this are one person. */
const NMS_IOU = 0.4;

export function checkDetectOptions(o: DetectOptions): { minScore: number; maxPeople: number } {
  const minScore = o.minScore ?? DEFAULT_MIN_PERSON_SCORE;
  const maxPeople = o.maxPeople ?? DEFAULT_MAX_PEOPLE;
  if (!(Number.isFinite(minScore) && minScore >= 0 && minScore <= 1)) throw new InvalidArgumentError(`minimum person score must be in [0, 1], got ${minScore}`);
  if (!(Number.isInteger(maxPeople) && maxPeople >= 1)) throw new InvalidArgumentError(`maximum number of people must be a positive integer, got ${maxPeople}`);
  return { minScore, maxPeople };
}

interface View {
  /** Input pixels -> image pixels: x_image = x_input * scale + dx. */
  readonly scale: number;
  readonly dx: number;
  readonly dy: number;
}

/** The people in a raster, best first. */
export async function detectPeople(model: HeatmapModel, raster: RasterImage, options: DetectOptions = {}): Promise<PersonDetection[]> {
  const { minScore, maxPeople } = checkDetectOptions(options);
  const s = model.config.inputSize;
  if (model.config.joints !== CHANNELS) throw new InvalidArgumentError(`a person detector has ${CHANNELS} output channels, this model ${model.config.joints}`);
  const { canvas, factor } = shrinkToCanvas(raster, SEARCH_SIDE);
  const candidates = Math.min(0.1, minScore);
  // Whole image, letterboxed (centred) into the s x s input.
  const inputs: Float32Array[] = [];
  const views: View[] = [];
  const addView = (from: Rect, to: Rect): void => {
    const input = new Float32Array(s * s * 3);
    pasteRect({ data: input, width: s, height: s, channels: 3 }, canvas, from, to);
    inputs.push(input);
    // canvas px -> image px multiplies by factor; input px -> canvas px: (x - to.x) * from.width / to.width + from.x.
    const k = from.width / to.width;
    views.push({ scale: k * factor, dx: (from.x - to.x * k) * factor, dy: (from.y - to.y * k) * factor });
  };
  const longer = Math.max(canvas.width, canvas.height);
  const fit = s / longer;
  const whole = { x: (s - canvas.width * fit) / 2, y: (s - canvas.height * fit) / 2, width: canvas.width * fit, height: canvas.height * fit };
  addView({ x: 0, y: 0, width: canvas.width, height: canvas.height }, whole);
  // Twice the size in tiles of s overlapping by half, for images of 3s px and more (in a smaller one a person under a
  // sixth of it is too small for the pose network anyway, and the tiles would cost more than the rest of the search).
  const tiled = longer >= 3 * s;
  if (tiled) {
    const big = 2 * s;
    const k = longer / big; // canvas px per tiled-input px
    const width = canvas.width / k;
    const height = canvas.height / k;
    const starts = (n: number): number[] => (n <= s ? [(n - s) / 2] : Array.from({ length: Math.ceil((n - s) / (s / 2)) + 1 }, (_, i) => Math.min(i * (s / 2), n - s)));
    for (const y of starts(height)) {
      for (const x of starts(width)) addView({ x: x * k, y: y * k, width: s * k, height: s * k }, { x: 0, y: 0, width: s, height: s });
    }
  }
  const outputs = tf.tidy(() => {
    const batch = tf.tensor4d(concat(inputs), [inputs.length, s, s, 3]) as Tensor4D;
    return model.predict(batch);
  });
  let values: Float32Array;
  try {
    values = (await outputs.data()) as Float32Array;
  } finally {
    outputs.dispose();
  }
  const g = heatmapSize(model.config);
  const found: GridDetection[] = [];
  views.forEach((view, n) => {
    const grid = values.subarray(n * g * g * CHANNELS, (n + 1) * g * g * CHANNELS);
    for (const d of decodeGrid(grid, g, candidates)) {
      const side = Math.max(d.box.width, d.box.height);
      if (n === 0 && tiled && side < WHOLE_MIN_SIDE) continue;
      if (n > 0 && side > TILE_MAX_SIDE) continue;
      found.push({
        score: d.score,
        box: { x: d.box.x * view.scale + view.dx, y: d.box.y * view.scale + view.dy, width: d.box.width * view.scale, height: d.box.height * view.scale },
      });
    }
  });
  return suppress(found, NMS_IOU)
    .filter((d) => d.score >= minScore)
    .slice(0, maxPeople)
    .map((d) => ({ box: d.box, score: d.score }));
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
