// Pixel work for the person search and its scenes: float RGB canvases, area-averaged shrinking of big images,
// pasting a rectangle of one image into another (bilinear), box blur. Pure TypeScript (no Node module), so the
// browser entry can use it; coordinates: pixel centres at integers, as in src/geometry/affine.ts.
import type { RasterImage } from '../geometry/affine.js';

/** An RGB float image in [0, 1], HWC. */
export interface Canvas extends RasterImage {
  readonly data: Float32Array;
  readonly channels: 3;
}

/** An axis-aligned rectangle in pixel-edge units: x, y the top-left edge, width/height in pixels. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export function newCanvas(width: number, height: number, rgb: readonly [number, number, number] = [0, 0, 0]): Canvas {
  const data = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { data, width, height, channels: 3 };
}

/** Value scale of a raster's data: 1/255 for bytes, 1 for floats. */
function gainOf(image: RasterImage): number {
  return image.data instanceof Float32Array ? 1 : 1 / 255;
}

/**
 * The image shrunk by the integer factor ceil(longer side / maxSide) (area average of factor x factor blocks) as a
 * canvas, and that factor; an image already within maxSide is converted, not resampled (factor 1).
 */
export function shrinkToCanvas(image: RasterImage, maxSide: number): { canvas: Canvas; factor: number } {
  const factor = Math.max(1, Math.ceil(Math.max(image.width, image.height) / maxSide));
  const width = Math.max(1, Math.floor(image.width / factor));
  const height = Math.max(1, Math.floor(image.height / factor));
  const { data, channels: ch } = image;
  const out = new Float32Array(width * height * 3);
  const g = gainOf(image) / (factor * factor);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0;
      let gr = 0;
      let b = 0;
      for (let dy = 0; dy < factor; dy++) {
        let s = ((y * factor + dy) * image.width + x * factor) * ch;
        for (let dx = 0; dx < factor; dx++, s += ch) {
          r += data[s];
          gr += data[s + (ch > 1 ? 1 : 0)];
          b += data[s + (ch > 2 ? 2 : 0)];
        }
      }
      const o = (y * width + x) * 3;
      out[o] = r * g;
      out[o + 1] = gr * g;
      out[o + 2] = b * g;
    }
  }
  return { canvas: { data: out, width, height, channels: 3 }, factor };
}

/**
 * Draws the `from` rectangle of `source` into the `to` rectangle of `canvas` (bilinear; clipped to the canvas);
 * `alpha` blends it over what is there. Shrinking by more than 2x should go through shrinkToCanvas first.
 */
export function pasteRect(canvas: Canvas, source: RasterImage, from: Rect, to: Rect, alpha = 1): void {
  const { data: src, width: sw, height: sh, channels: ch } = source;
  const gain = gainOf(source);
  const sx = from.width / to.width;
  const sy = from.height / to.height;
  const x0 = Math.max(0, Math.ceil(to.x - 0.5));
  const y0 = Math.max(0, Math.ceil(to.y - 0.5));
  const x1 = Math.min(canvas.width, Math.ceil(to.x + to.width - 0.5));
  const y1 = Math.min(canvas.height, Math.ceil(to.y + to.height - 0.5));
  const out = canvas.data;
  for (let y = y0; y < y1; y++) {
    const fy = Math.min(sh - 1, Math.max(0, from.y + (y + 0.5 - to.y) * sy - 0.5));
    const iy = Math.min(sh - 2, Math.floor(fy));
    const wy = sh === 1 ? 0 : fy - Math.max(0, iy);
    const ry0 = Math.max(0, iy);
    const ry1 = Math.min(sh - 1, ry0 + 1);
    for (let x = x0; x < x1; x++) {
      const fx = Math.min(sw - 1, Math.max(0, from.x + (x + 0.5 - to.x) * sx - 0.5));
      const ix = Math.min(sw - 2, Math.floor(fx));
      const wx = sw === 1 ? 0 : fx - Math.max(0, ix);
      const rx0 = Math.max(0, ix);
      const rx1 = Math.min(sw - 1, rx0 + 1);
      const o = (y * canvas.width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const k = ch === 1 ? 0 : c;
        const top = src[(ry0 * sw + rx0) * ch + k] * (1 - wx) + src[(ry0 * sw + rx1) * ch + k] * wx;
        const bottom = src[(ry1 * sw + rx0) * ch + k] * (1 - wx) + src[(ry1 * sw + rx1) * ch + k] * wx;
        const v = (top * (1 - wy) + bottom * wy) * gain;
        out[o + c] = alpha === 1 ? v : out[o + c] * (1 - alpha) + v * alpha;
      }
    }
  }
}

/** Box blur of radius r (a (2r+1)^2 mean, edges clamped), in place; passes = 2 or 3 approximates a Gaussian. */
export function boxBlur(canvas: Canvas, r: number, passes = 2): void {
  if (r < 1) return;
  const { width: w, height: h, data } = canvas;
  const tmp = new Float32Array(data.length);
  const line = (n: number, read: (i: number, c: number) => number, write: (i: number, c: number, v: number) => void): void => {
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (let i = -r; i <= r; i++) sum += read(Math.min(n - 1, Math.max(0, i)), c);
      for (let i = 0; i < n; i++) {
        write(i, c, sum / (2 * r + 1));
        sum += read(Math.min(n - 1, i + r + 1), c) - read(Math.max(0, i - r), c);
      }
    }
  };
  for (let p = 0; p < passes; p++) {
    for (let y = 0; y < h; y++) line(w, (i, c) => data[(y * w + i) * 3 + c], (i, c, v) => { tmp[(y * w + i) * 3 + c] = v; });
    for (let x = 0; x < w; x++) line(h, (i, c) => tmp[(i * w + x) * 3 + c], (i, c, v) => { data[(i * w + x) * 3 + c] = v; });
  }
}
