// The person detector's output format, defined once for training targets and for decoding: on the network's
// S/4 x S/4 grid, channel 0 is a person-centre heatmap (a Gaussian per person, peak 1), channels 1 and 2 the log size
// of the person's box (width, height) at and around its centre. Boxes are joints' boxes (geometry/person-box.ts):
// the pose network's crop for a found person is then the one it was trained on.
import type { Rect } from './raster.js';

/** Input pixels per grid cell (the hourglass's heatmap stride). */
export const STRIDE = 4;
export const CHANNELS = 3;

/** Grid coordinate of an input-pixel coordinate (pixel centres at integers; cell i covers pixels 4i..4i+3). */
export function toCell(v: number): number {
  return (v - (STRIDE - 1) / 2) / STRIDE;
}

export function fromCell(u: number): number {
  return u * STRIDE + (STRIDE - 1) / 2;
}

/** Size channel value of a box side in input pixels: log2(side / 4) / 4 (4 px -> 0, 128 px -> 1.25). */
export function encodeSize(side: number): number {
  return Math.log2(Math.max(1, side) / STRIDE) / 4;
}

export function decodeSize(value: number): number {
  return STRIDE * 2 ** (4 * value);
}

/** Spread of a person's centre Gaussian in cells: grows with the box, at least 0.8 cell. */
export function centreSigma(box: Rect): number {
  return Math.max(0.8, (0.08 * Math.max(box.width, box.height)) / STRIDE);
}

export interface DetectionTargets {
  /** [g * g * 3] HWC: heat, size w, size h. */
  readonly targets: Float32Array;
  /** [g * g] 1 where the size channels are trained (the 3x3 cells at each centre). */
  readonly sizeMask: Float32Array;
}

/** Training targets for people's boxes (input pixels, edge units) on a g x g grid. */
export function encodeTargets(boxes: readonly Rect[], grid: number): DetectionTargets {
  const targets = new Float32Array(grid * grid * CHANNELS);
  const sizeMask = new Float32Array(grid * grid);
  const owner = new Float32Array(grid * grid); // heat of the person whose size a cell holds
  for (const box of boxes) {
    const u = toCell(box.x + box.width / 2 - 0.5);
    const v = toCell(box.y + box.height / 2 - 0.5);
    const sigma = centreSigma(box);
    const reach = Math.ceil(3 * sigma);
    const ci = Math.round(u);
    const cj = Math.round(v);
    for (let j = Math.max(0, cj - reach); j <= Math.min(grid - 1, cj + reach); j++) {
      for (let i = Math.max(0, ci - reach); i <= Math.min(grid - 1, ci + reach); i++) {
        const heat = Math.exp(-((i - u) ** 2 + (j - v) ** 2) / (2 * sigma * sigma));
        const cell = j * grid + i;
        if (heat > targets[cell * CHANNELS]) targets[cell * CHANNELS] = heat;
        if (Math.abs(i - ci) <= 1 && Math.abs(j - cj) <= 1 && heat > owner[cell]) {
          owner[cell] = heat;
          sizeMask[cell] = 1;
          targets[cell * CHANNELS + 1] = encodeSize(box.width);
          targets[cell * CHANNELS + 2] = encodeSize(box.height);
        }
      }
    }
  }
  return { targets, sizeMask };
}

export interface GridDetection {
  /** The box in input pixels (edge units). */
  readonly box: Rect;
  /** The centre heatmap's peak. */
  readonly score: number;
}

/** Sub-cell offset of a peak from its neighbours: the vertex of a parabola through the logs (exact for a Gaussian). */
function refine(left: number, centre: number, right: number): number {
  if (!(left > 0 && right > 0 && centre > 0)) return 0;
  const a = Math.log(left);
  const b = Math.log(centre);
  const c = Math.log(right);
  const curvature = a - 2 * b + c;
  return curvature < 0 ? Math.max(-0.5, Math.min(0.5, (a - c) / (2 * curvature))) : 0;
}

/**
 * Peaks of the centre heatmap (local maxima over 3x3 at or above minScore) as boxes: the centre refined to a
 * fraction of a cell from the neighbouring cells, the size read at the peak.
 */
export function decodeGrid(output: Float32Array, grid: number, minScore: number): GridDetection[] {
  const heat = (i: number, j: number): number => (i < 0 || j < 0 || i >= grid || j >= grid ? 0 : output[(j * grid + i) * CHANNELS]);
  const found: GridDetection[] = [];
  for (let j = 0; j < grid; j++) {
    for (let i = 0; i < grid; i++) {
      const h = heat(i, j);
      if (!(h >= minScore)) continue;
      let isPeak = true;
      for (let dj = -1; dj <= 1 && isPeak; dj++) {
        for (let di = -1; di <= 1; di++) {
          const n = heat(i + di, j + dj);
          // Ties go to the first cell in reading order.
          if ((di !== 0 || dj !== 0) && (n > h || (n === h && (dj < 0 || (dj === 0 && di < 0))))) isPeak = false;
        }
      }
      if (!isPeak) continue;
      const cx = fromCell(i + refine(heat(i - 1, j), h, heat(i + 1, j))) + 0.5;
      const cy = fromCell(j + refine(heat(i, j - 1), h, heat(i, j + 1))) + 0.5;
      const c = (j * grid + i) * CHANNELS;
      const width = decodeSize(output[c + 1]);
      const height = decodeSize(output[c + 2]);
      found.push({ box: { x: cx - width / 2, y: cy - height / 2, width, height }, score: h });
    }
  }
  return found.sort((a, b) => b.score - a.score);
}

/** Intersection over union of two rectangles. */
export function iou(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

/** Greedy non-maximum suppression: keeps the best-scoring of boxes overlapping more than `threshold` IoU. */
export function suppress<T extends { box: Rect; score: number }>(items: readonly T[], threshold: number): T[] {
  const kept: T[] = [];
  for (const item of [...items].sort((a, b) => b.score - a.score)) {
    if (kept.every((k) => iou(k.box, item.box) <= threshold)) kept.push(item);
  }
  return kept;
}
