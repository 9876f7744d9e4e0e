// The pure part of the public estimator, shared by the Node estimator (src/api/estimator.ts) and the browser one
// (src/browser.ts): the Pose types and options, raw pixels and tensors as RGB rasters, given boxes checked. One
// person's path through a model (crop -> model (+ flip test) -> decode -> inverse crop -> keypoints) is
// src/inference/person.ts. No Node module is imported here or below, so that a browser bundle can include it.
// Coordinates are original image pixels, pixel centres at integers ((0, 0) is the centre of the top-left pixel),
// the convention of src/geometry/affine.ts.
import type { Tensor } from '../tf.js';
import { InvalidArgumentError } from '../errors.js';
import type { RasterImage } from '../geometry/affine.js';
import type { Box, InferenceOptions, Keypoint } from '../inference/person.js';

export type { Box, Keypoint } from '../inference/person.js';
export { cropForBox } from '../inference/person.js';

/** Raw pixels: row-major, interleaved; 1 (grey), 3 (RGB) or 4 (RGBA, alpha ignored) channels. */
export interface RawImage {
  /** Bytes 0-255, or floats in [0, 1]. */
  readonly data: Uint8Array | Uint8ClampedArray | Float32Array;
  readonly width: number;
  readonly height: number;
  /** 1, 3 or 4; default: data.length / (width * height). */
  readonly channels?: number;
}

/** One person found (or given) in an image: the box the crop was made from, its score and the joints. */
export interface Person {
  readonly box: Box;
  /**
   * How sure the search is that a person is there: the person detector's peak (about 1 sure, near 0 nothing);
   * a given box's own score, or 1.
   */
  readonly score: number;
  readonly keypoints: Keypoint[];
}

export interface Pose {
  /** The first (best-scoring) person's keypoints; empty when no person was found. */
  readonly keypoints: Keypoint[];
  /** The first person's box (the whole image when no box was given and no person search ran, or none was found). */
  readonly box: Box;
  readonly imageSize: { readonly width: number; readonly height: number };
  /** Every person, best score first (one for a given box; empty when the search found nobody). */
  readonly people: Person[];
}

/** A person box as estimatePose takes it: a Box or [x, y, width, height], with an optional score (a detector's). */
export type BoxInput = Box | readonly [x: number, y: number, width: number, height: number];
export type ScoredBoxInput = BoxInput | (Box & { readonly score?: number });

export interface EstimateOptions extends InferenceOptions {
  /**
   * The person's box. Without it (and without `boxes`) the people are searched for (when the estimator has a person
   * detector; otherwise the person is taken to fill the image, the LSP convention).
   */
  readonly box?: BoxInput;
  /** Several people's boxes (e.g. another detector's), each with an optional score; instead of the search. */
  readonly boxes?: readonly ScoredBoxInput[];
  /** At most this many people (the best-scoring). Default 20. */
  readonly maxPeople?: number;
  /** People scoring lower are left out (found or given). Default: the detector's threshold (0.3). */
  readonly minPersonScore?: number;
}

export function checkBox(value: BoxInput | undefined, image: { width: number; height: number }, what = 'box'): Box {
  const box: Box = Array.isArray(value)
    ? { x: value[0], y: value[1], width: value[2], height: value[3] }
    : (value as Box);
  const parts = [box.x, box.y, box.width, box.height];
  if (typeof value !== 'object' || value === null) throw new InvalidArgumentError(`${what} must be {x, y, width, height} or [x, y, width, height], got ${JSON.stringify(value)}`);
  if (Array.isArray(value) && value.length !== 4) throw new InvalidArgumentError(`${what} must be [x, y, width, height], got ${value.length} numbers`);
  if (!parts.every((v) => typeof v === 'number' && Number.isFinite(v))) throw new InvalidArgumentError(`${what} must be four finite numbers, got ${JSON.stringify(value)}`);
  if (!(box.width >= 1 && box.height >= 1)) throw new InvalidArgumentError(`${what} width and height must be at least 1 pixel, got ${box.width}x${box.height}`);
  if (box.x >= image.width || box.y >= image.height || box.x + box.width <= 0 || box.y + box.height <= 0) {
    throw new InvalidArgumentError(`${what} ${parts.join(',')} lies outside the ${image.width}x${image.height} image`);
  }
  return { x: box.x, y: box.y, width: box.width, height: box.height };
}

/** RGB raster from raw pixels (grey replicated, alpha dropped); validates sizes and ranges. */
export function rasterFromRaw(raw: RawImage): RasterImage {
  const { data, width, height } = raw;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new InvalidArgumentError(`raw image: width and height must be positive integers, got ${width}x${height}`);
  }
  const channels = raw.channels ?? data.length / (width * height);
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new InvalidArgumentError(`raw image: ${data.length} values for ${width}x${height} pixels is not 1, 3 or 4 channels`);
  }
  if (data.length !== width * height * channels) {
    throw new InvalidArgumentError(`raw image: ${data.length} values, expected ${width}x${height}x${channels} = ${width * height * channels}`);
  }
  if (data instanceof Float32Array) {
    for (const v of data) {
      if (!(v >= 0 && v <= 1)) throw new InvalidArgumentError(`raw image: float pixels must be in [0, 1], found ${v} (divide bytes by 255)`);
    }
  }
  if (channels === 3) return { data, width, height, channels: 3 };
  const n = width * height;
  const rgb = data instanceof Float32Array ? new Float32Array(n * 3) : new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = data[i * channels + (channels === 1 ? 0 : c)];
  }
  return { data: rgb, width, height, channels: 3 };
}

/** RGB raster from an image tensor [height, width, 1|3|4] (int32 0-255 or float32 in [0, 1]). */
export function rasterFromTensor(t: Tensor): RasterImage {
  if (t.rank !== 3) throw new InvalidArgumentError(`image tensor must be [height, width, channels], got shape [${t.shape.join(', ')}]`);
  const [height, width, channels] = t.shape as [number, number, number];
  if (t.dtype === 'int32') {
    const values = t.dataSync() as Int32Array;
    for (const v of values) if (v < 0 || v > 255) throw new InvalidArgumentError(`int32 image tensor values must be 0-255, found ${v}`);
    return rasterFromRaw({ data: Uint8Array.from(values), width, height, channels });
  }
  if (t.dtype === 'float32') {
    return rasterFromRaw({ data: Float32Array.from(t.dataSync() as Float32Array), width, height, channels });
  }
  throw new InvalidArgumentError(`image tensor must be int32 (0-255) or float32 ([0, 1]), got ${t.dtype}`);
}
