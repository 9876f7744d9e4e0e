// Training augmentation, docs/method.md "Data preparation and augmentation" (current revision of pose-hg-train
// src/util/pose.lua / opts.lua): scale 2^clamp(0.25 N, ±0.5), rotation clamp(30 N, ±60)° with p 0.4, flip p 0.5,
// per-channel colour U(0.6, 1.4) clipped to [0, 1]; no translation. Translation (translateSigma, off by default) is
// ours: it trains a network for crops whose centre is off, as the person search's boxes are (tried for the search,
// without a clear gain: docs/models/person.md).
import { InvalidArgumentError } from '../errors.js';
import type { Rng } from '../util/rng.js';

/** Every knob of the augmentation. Pass `null` instead of an object to turn augmentation off. */
export interface AugmentOptions {
  /** Standard deviation of log2 of the scale factor. */
  readonly scaleSigma: number;
  /** log2 of the scale factor is clamped to ±scaleClamp (0.5: factors 0.71–1.41). */
  readonly scaleClamp: number;
  /** Standard deviation of the rotation, degrees. */
  readonly rotationSigma: number;
  /** Rotation is clamped to ±rotationClamp degrees. */
  readonly rotationClamp: number;
  /** Probability that a sample is rotated at all (otherwise 0°). */
  readonly rotationProbability: number;
  /** Probability of a horizontal flip (left/right joints swapped). */
  readonly flipProbability: number;
  /** Each RGB channel is multiplied by U(colourMin, colourMax), then clipped to [0, 1]. */
  readonly colourMin: number;
  readonly colourMax: number;
  /**
   * Standard deviation of the crop centre's shift along x and along y, as a fraction of the crop's side (the paper
   * has none: 0).
   */
  readonly translateSigma: number;
  /** Each component of the shift is clamped to ±translateClamp of the crop's side. */
  readonly translateClamp: number;
}

export const DEFAULT_AUGMENTATION: AugmentOptions = Object.freeze({
  scaleSigma: 0.25,
  scaleClamp: 0.5,
  rotationSigma: 30,
  rotationClamp: 60,
  rotationProbability: 0.4,
  flipProbability: 0.5,
  colourMin: 0.6,
  colourMax: 1.4,
  translateSigma: 0,
  translateClamp: 0.25,
});

/** The drawn parameters of one sample's augmentation. */
export interface AugmentParams {
  /** Multiplies the crop's scale (> 1: a larger square of the image, the person appears smaller). */
  readonly scaleFactor: number;
  /** Degrees, counter-clockwise in the output (cropTransform's convention). */
  readonly rotation: number;
  readonly flip: boolean;
  /** RGB channel gains. */
  readonly colour: readonly [number, number, number];
  /** The crop centre's shift in the image, x and y, as fractions of the crop's side (before rotation and flip). */
  readonly shift: readonly [number, number];
}

/** The identity: what evaluation uses. */
export const IDENTITY_AUGMENTATION: AugmentParams = Object.freeze({
  scaleFactor: 1,
  rotation: 0,
  flip: false,
  colour: Object.freeze([1, 1, 1]) as readonly [number, number, number],
  shift: Object.freeze([0, 0]) as readonly [number, number],
});

/** Defaults overridden by `overrides`; validated. Unknown keys are an error (a typo must not pass silently). */
export function augmentOptions(overrides: Partial<AugmentOptions> = {}): AugmentOptions {
  for (const key of Object.keys(overrides)) {
    if (!(key in DEFAULT_AUGMENTATION)) {
      throw new InvalidArgumentError(`unknown augmentation option '${key}' (options: ${Object.keys(DEFAULT_AUGMENTATION).join(', ')})`);
    }
  }
  const o: AugmentOptions = { ...DEFAULT_AUGMENTATION, ...overrides };
  validateAugmentOptions(o);
  return o;
}

export function validateAugmentOptions(o: AugmentOptions): void {
  const nonNegative: (keyof AugmentOptions)[] = ['scaleSigma', 'scaleClamp', 'rotationSigma', 'rotationClamp', 'colourMin', 'translateSigma', 'translateClamp'];
  for (const key of nonNegative) {
    if (!(o[key] >= 0) || !Number.isFinite(o[key])) throw new InvalidArgumentError(`augmentation ${key} must be a finite number >= 0, got ${o[key]}`);
  }
  for (const key of ['rotationProbability', 'flipProbability'] as const) {
    if (!(o[key] >= 0 && o[key] <= 1)) throw new InvalidArgumentError(`augmentation ${key} must be in [0, 1], got ${o[key]}`);
  }
  if (!(o.colourMax >= o.colourMin) || !Number.isFinite(o.colourMax)) {
    throw new InvalidArgumentError(`augmentation colourMax must be finite and >= colourMin (${o.colourMin}), got ${o.colourMax}`);
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/**
 * Draws one sample's parameters. Always consumes the same number of draws (9) whatever the outcome, in a fixed
 * order: scale, rotation, rotation gate, flip, colour r, g, b, shift x, y (the shift last, so that the first seven
 * are what they were before it existed).
 */
export function sampleAugmentation(rng: Rng, o: AugmentOptions = DEFAULT_AUGMENTATION): AugmentParams {
  const scaleFactor = 2 ** clamp(o.scaleSigma * rng.normal(), -o.scaleClamp, o.scaleClamp);
  const angle = clamp(o.rotationSigma * rng.normal(), -o.rotationClamp, o.rotationClamp);
  const rotate = rng.uniform() < o.rotationProbability;
  const flip = rng.uniform() < o.flipProbability;
  const colour: [number, number, number] = [
    rng.uniform(o.colourMin, o.colourMax),
    rng.uniform(o.colourMin, o.colourMax),
    rng.uniform(o.colourMin, o.colourMax),
  ];
  // (+ 0 turns the -0 of a zero sigma times a negative draw into 0.)
  const shiftX = clamp(o.translateSigma * rng.normal(), -o.translateClamp, o.translateClamp) + 0;
  const shiftY = clamp(o.translateSigma * rng.normal(), -o.translateClamp, o.translateClamp) + 0;
  return { scaleFactor, rotation: rotate ? angle : 0, flip, colour, shift: [shiftX, shiftY] };
}

/** Multiplies each channel of an HWC RGB image in [0, 1] by its gain and clips to [0, 1], in place. */
export function applyColour(pixels: Float32Array, colour: readonly [number, number, number]): void {
  const [r, g, b] = colour;
  if (r === 1 && g === 1 && b === 1) return;
  for (let i = 0; i < pixels.length; i += 3) {
    pixels[i] = Math.min(1, Math.max(0, pixels[i] * r));
    pixels[i + 1] = Math.min(1, Math.max(0, pixels[i + 1] * g));
    pixels[i + 2] = Math.min(1, Math.max(0, pixels[i + 2] * b));
  }
}
