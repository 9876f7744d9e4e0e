// The heatmap codec (docs/method.md "Targets and loss", "Inference and evaluation"): Gaussian training targets from
// joints, joints from predicted heatmaps (the argmax refined to a sub-pixel position: by a second-order fit of the
// smoothed log-heatmap, or the paper's quarter-pixel step toward the higher neighbour), and the flip of heatmaps for
// the flip test.
// One module, so training targets and inference decoding cannot drift apart.
//
// Coordinates are heatmap pixels with pixel centres at integers: cell (x, y) is centred on (x, y), the map spans
// [-0.5, width - 0.5]. Heatmap buffers are HWC (the NHWC layout of one image): value of joint k at (x, y) is
// data[(y * width + x) * joints + k].
// This file is free of TensorFlow.js so that data workers can encode targets without loading it; the tensor-level
// parts (batch decoding, flips) are in tensors.ts.
import { InvalidArgumentError } from '../errors.js';

export interface Size {
  readonly width: number;
  readonly height: number;
}

export interface CodecOptions {
  /** Heatmap size (input size / 4 for the hourglass). */
  readonly size: Size;
  /**
   * Gaussian standard deviation in heatmap pixels. Default 1, as the PyTorch ports (docs/method.md
   * "Targets and loss" on the choice).
   */
  readonly sigma?: number;
  /** Half-width of the drawn window in heatmap pixels; values beyond it are 0. Default ceil(3 * sigma). */
  readonly radius?: number;
  /** How decode refines the argmax to a sub-pixel position. Default 'taylor'. */
  readonly subpixel?: Subpixel;
}

/**
 * Sub-pixel refinement of a heatmap's argmax (docs/method.md "Inference and evaluation"):
 * - 'taylor': the heatmap smoothed by a Gaussian of the targets' sigma, its logarithm expanded to second order around
 *   the argmax, and the expansion's maximum taken (clamped to a pixel from the argmax in each axis; where the
 *   expansion has no maximum, or within 2 pixels of the border, the quarter step). A Gaussian peak is found exactly,
 *   wherever it lies between cells;
 * - 'quarter': the paper's rule, a quarter pixel toward the higher of the two neighbours in x and in y.
 */
export type Subpixel = 'taylor' | 'quarter';
export const SUBPIXEL_MODES: readonly Subpixel[] = ['taylor', 'quarter'];
/**
 * The farthest the Taylor step moves from the argmax in each axis, in heatmap pixels (clamping at 1 and at 0.5 scored
 * alike on LSPET 6001-7000 with lsp14; clamping scored 0.05 points above falling back to the quarter step there and on
 * FLIC's validation records).
 */
const TAYLOR_MAX_STEP = 1;

export interface EncodedTargets {
  /** [H * W * K] HWC Gaussian targets, peak ~1 at each labelled joint; all-zero for unlabelled joints. */
  readonly heatmaps: Float32Array;
  /** [K] loss weight per joint: 1 for labelled joints (also when outside the crop: the target is then 0), 0 otherwise. */
  readonly weights: Float32Array;
}

export interface DecodedJoints {
  /** [K * 2] x, y in heatmap pixels. */
  readonly points: Float32Array;
  /** [K] peak value of each heatmap (the confidence). */
  readonly scores: Float32Array;
}

export class HeatmapCodec {
  readonly size: Size;
  readonly sigma: number;
  readonly radius: number;
  readonly subpixel: Subpixel;

  constructor(options: CodecOptions) {
    const { size } = options;
    if (!(Number.isInteger(size.width) && Number.isInteger(size.height) && size.width > 0 && size.height > 0)) {
      throw new InvalidArgumentError(`heatmap size must be positive integers, got ${size.width}x${size.height}`);
    }
    this.size = { width: size.width, height: size.height };
    this.sigma = options.sigma ?? 1;
    if (!(this.sigma > 0)) throw new InvalidArgumentError(`sigma must be > 0, got ${this.sigma}`);
    this.radius = options.radius ?? Math.ceil(3 * this.sigma);
    this.subpixel = options.subpixel ?? 'taylor';
    if (!SUBPIXEL_MODES.includes(this.subpixel)) {
      throw new InvalidArgumentError(`sub-pixel refinement must be one of ${SUBPIXEL_MODES.join(', ')}, got ${JSON.stringify(this.subpixel)}`);
    }
  }

  /**
   * heatmapPoints: [K * 2] joint positions in heatmap pixels; visible: [K], non-zero = labelled.
   * The Gaussian is centred on the exact (sub-pixel) position so that decoding recovers it to a quarter pixel.
   */
  encode(heatmapPoints: ArrayLike<number>, visible: ArrayLike<number>): EncodedTargets {
    const joints = visible.length;
    if (heatmapPoints.length !== 2 * joints) {
      throw new InvalidArgumentError(`encode: expected ${2 * joints} coordinates for ${joints} joints, got ${heatmapPoints.length}`);
    }
    const { width, height } = this.size;
    const heatmaps = new Float32Array(width * height * joints);
    const weights = new Float32Array(joints);
    const twoSigma2 = 2 * this.sigma * this.sigma;
    for (let k = 0; k < joints; k++) {
      const mx = heatmapPoints[2 * k];
      const my = heatmapPoints[2 * k + 1];
      if (!visible[k] || !Number.isFinite(mx) || !Number.isFinite(my)) continue;
      weights[k] = 1;
      const x0 = Math.max(0, Math.ceil(mx - this.radius));
      const x1 = Math.min(width - 1, Math.floor(mx + this.radius));
      const y0 = Math.max(0, Math.ceil(my - this.radius));
      const y1 = Math.min(height - 1, Math.floor(my + this.radius));
      for (let y = y0; y <= y1; y++) {
        const dy2 = (y - my) * (y - my);
        for (let x = x0; x <= x1; x++) {
          heatmaps[(y * width + x) * joints + k] = Math.exp(-((x - mx) * (x - mx) + dy2) / twoSigma2);
        }
      }
    }
    return { heatmaps, weights };
  }

  /**
   * heatmaps: [H * W * K] HWC for one image -> per joint the argmax (first maximum in row-major order on ties),
   * refined by `subpixel`: the Taylor step where it applies, else a quarter pixel toward the higher of its two
   * neighbours in x and in y (not at the border, not on a tie).
   */
  decode(heatmaps: ArrayLike<number>, joints: number): DecodedJoints {
    const { width, height } = this.size;
    if (heatmaps.length !== width * height * joints) {
      throw new InvalidArgumentError(`decode: expected ${width}x${height}x${joints} = ${width * height * joints} values, got ${heatmaps.length}`);
    }
    const points = new Float32Array(2 * joints);
    const scores = new Float32Array(joints);
    const at = (x: number, y: number, k: number): number => heatmaps[(y * width + x) * joints + k];
    for (let k = 0; k < joints; k++) {
      let best = -Infinity;
      let bx = 0;
      let by = 0;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const v = at(x, y, k);
          if (v > best) {
            best = v;
            bx = x;
            by = y;
          }
        }
      }
      const step = this.subpixel === 'taylor' && best > 0 ? this.taylorStep(heatmaps, joints, k, bx, by) : null;
      let px = bx;
      let py = by;
      if (step) {
        px += step[0];
        py += step[1];
      } else {
        if (bx > 0 && bx < width - 1) px += 0.25 * Math.sign(at(bx + 1, by, k) - at(bx - 1, by, k));
        if (by > 0 && by < height - 1) py += 0.25 * Math.sign(at(bx, by + 1, k) - at(bx, by - 1, k));
      }
      points[2 * k] = px;
      points[2 * k + 1] = py;
      scores[k] = best === -Infinity ? NaN : best; // -Infinity only when every value is NaN
    }
    return { points, scores };
  }

  /**
   * The 'taylor' refinement of joint k's argmax (bx, by): the offset [dx, dy] to the maximum of the second-order
   * expansion of log(heatmap smoothed by a Gaussian of sigma), from central differences (first derivatives over one
   * pixel, second over two), each axis clamped to TAYLOR_MAX_STEP; null where it does not apply (within 2 pixels of
   * the border, or no maximum there).
   */
  private taylorStep(heatmaps: ArrayLike<number>, joints: number, k: number, bx: number, by: number): [number, number] | null {
    const { width, height } = this.size;
    if (bx < 2 || by < 2 || bx > width - 3 || by > height - 3) return null;
    const r = Math.ceil(3 * this.sigma);
    const twoSigma2 = 2 * this.sigma * this.sigma;
    // log of the smoothed heatmap at (bx + dx, by + dy); negative values (the network's undershoot) count as 0.
    const logSmoothed = (dx: number, dy: number): number => {
      const cx = bx + dx;
      const cy = by + dy;
      let sum = 0;
      let weights = 0;
      for (let y = Math.max(0, cy - r); y <= Math.min(height - 1, cy + r); y++) {
        for (let x = Math.max(0, cx - r); x <= Math.min(width - 1, cx + r); x++) {
          const w = Math.exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / twoSigma2);
          sum += w * Math.max(0, heatmaps[(y * width + x) * joints + k]);
          weights += w;
        }
      }
      return Math.log(Math.max(sum / weights, 1e-10));
    };
    const c = logSmoothed(0, 0);
    const gx = 0.5 * (logSmoothed(1, 0) - logSmoothed(-1, 0));
    const gy = 0.5 * (logSmoothed(0, 1) - logSmoothed(0, -1));
    const hxx = 0.25 * (logSmoothed(2, 0) - 2 * c + logSmoothed(-2, 0));
    const hyy = 0.25 * (logSmoothed(0, 2) - 2 * c + logSmoothed(0, -2));
    const hxy = 0.25 * (logSmoothed(1, 1) - logSmoothed(-1, 1) - logSmoothed(1, -1) + logSmoothed(-1, -1));
    const det = hxx * hyy - hxy * hxy;
    if (!(hxx < 0 && det > 1e-12)) return null; // no maximum: the expansion is not concave there
    const dx = -(hyy * gx - hxy * gy) / det;
    const dy = -(hxx * gy - hxy * gx) / det;
    const clamp = (v: number): number => Math.max(-TAYLOR_MAX_STEP, Math.min(TAYLOR_MAX_STEP, v));
    return [clamp(dx), clamp(dy)];
  }
}
