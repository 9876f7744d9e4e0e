// All geometry of the project (docs/method.md "Data preparation and augmentation"): the affine transform of a person
// crop (center, scale, rotation, output size), applied to points and to images, its inverse (predictions back to the
// original image), and flips.
//
// Coordinates: pixel centres at integers (pixel (i, j) is centred on x = i, y = j; an image of width W spans
// [-0.5, W - 0.5]). The same convention holds for the original image, the network input and the heatmaps, so
// one crop (center, scale, rotation) mapped to different output sizes gives consistent input and heatmap frames.
import { InvalidArgumentError } from '../errors.js';

/** x' = a*x + b*y + c, y' = d*x + e*y + f. */
export type Affine = readonly [a: number, b: number, c: number, d: number, e: number, f: number];

export interface Size {
  readonly width: number;
  readonly height: number;
}

export interface Crop {
  /** Person centre in image pixels. */
  readonly center: readonly [number, number];
  /** Person scale: the crop square has a side of 200 * scale image pixels (the MPII convention). */
  readonly scale: number;
  /** Degrees; positive turns the content counter-clockwise as seen in the output. */
  readonly rotation?: number;
}

/**
 * The transform from image pixels to a crop of `output` pixels: the square of side 200*scale centred on `center`
 * (rotated by `rotation`) fills the output's width; `center` lands on the output's centre ((W-1)/2, (H-1)/2).
 */
export function cropTransform(crop: Crop, output: Size): Affine {
  const { center, scale } = crop;
  if (!(scale > 0) || !Number.isFinite(scale)) throw new InvalidArgumentError(`crop scale must be a positive number, got ${scale}`);
  if (!center.every(Number.isFinite)) throw new InvalidArgumentError(`crop center must be finite, got [${center.join(', ')}]`);
  const k = output.width / (200 * scale);
  const theta = ((crop.rotation ?? 0) * Math.PI) / 180;
  // Counter-clockwise on screen with y pointing down.
  const cos = Math.cos(theta) * k;
  const sin = Math.sin(theta) * k;
  const a = cos;
  const b = sin;
  const d = -sin;
  const e = cos;
  const ox = (output.width - 1) / 2;
  const oy = (output.height - 1) / 2;
  return [a, b, ox - a * center[0] - b * center[1], d, e, oy - d * center[0] - e * center[1]];
}

export function invertAffine(t: Affine): Affine {
  const [a, b, c, d, e, f] = t;
  const det = a * e - b * d;
  if (Math.abs(det) < 1e-12) throw new InvalidArgumentError('affine transform is not invertible');
  const ia = e / det;
  const ib = -b / det;
  const id = -d / det;
  const ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/** The transform that applies `first`, then `second`. */
export function composeAffine(second: Affine, first: Affine): Affine {
  const [a2, b2, c2, d2, e2, f2] = second;
  const [a1, b1, c1, d1, e1, f1] = first;
  return [
    a2 * a1 + b2 * d1, a2 * b1 + b2 * e1, a2 * c1 + b2 * f1 + c2,
    d2 * a1 + e2 * d1, d2 * b1 + e2 * e1, d2 * c1 + e2 * f1 + f2,
  ];
}

/** points: [n * 2] x, y -> new [n * 2] array. Non-finite points stay non-finite. */
export function transformPoints(t: Affine, points: ArrayLike<number>): Float32Array {
  const [a, b, c, d, e, f] = t;
  const out = new Float32Array(points.length);
  for (let i = 0; i < points.length; i += 2) {
    const x = points[i];
    const y = points[i + 1];
    out[i] = a * x + b * y + c;
    out[i + 1] = d * x + e * y + f;
  }
  return out;
}

/** Mirrors points in an image of the given width (x -> width - 1 - x) and swaps left/right joints by flipPerm. */
export function flipPoints(points: ArrayLike<number>, width: number, flipPerm: readonly number[]): Float32Array {
  if (points.length !== 2 * flipPerm.length) {
    throw new InvalidArgumentError(`flipPoints: ${points.length / 2} points for a permutation of ${flipPerm.length}`);
  }
  const out = new Float32Array(points.length);
  flipPerm.forEach((src, k) => {
    out[2 * k] = width - 1 - points[2 * src];
    out[2 * k + 1] = points[2 * src + 1];
  });
  return out;
}

export interface RasterImage {
  /** Interleaved pixels, row-major: value of channel ch at (x, y) is data[(y * width + x) * channels + ch]. */
  readonly data: Uint8Array | Uint8ClampedArray | Float32Array;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

/**
 * Warps an image through `t` (image -> output) into an output of `size`, bilinear, zero outside the source.
 * Values are multiplied by `gain` (e.g. 1/255 to get [0, 1] floats from bytes). Returns HWC float32.
 */
export function warpImage(image: RasterImage, t: Affine, size: Size, gain = 1): Float32Array {
  const { data, width: sw, height: sh, channels: ch } = image;
  if (data.length !== sw * sh * ch) {
    throw new InvalidArgumentError(`image data has ${data.length} values, expected ${sw}x${sh}x${ch}`);
  }
  const [a, b, c, d, e, f] = invertAffine(t);
  const { width: ow, height: oh } = size;
  const out = new Float32Array(ow * oh * ch);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const sx = a * x + b * y + c;
      const sy = d * x + e * y + f;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const o = (y * ow + x) * ch;
      if (x0 < -1 || y0 < -1 || x0 >= sw || y0 >= sh) continue;
      for (let py = 0; py < 2; py++) {
        const yy = y0 + py;
        if (yy < 0 || yy >= sh) continue;
        const wy = py === 0 ? 1 - fy : fy;
        for (let px = 0; px < 2; px++) {
          const xx = x0 + px;
          if (xx < 0 || xx >= sw) continue;
          const w = wy * (px === 0 ? 1 - fx : fx) * gain;
          const s = (yy * sw + xx) * ch;
          for (let k = 0; k < ch; k++) out[o + k] += w * data[s + k];
        }
      }
    }
  }
  return out;
}
