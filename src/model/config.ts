// The network's configuration: a typed record with defaults and validation (stacks, features, modules, joints, input).
import { InvalidArgumentError } from '../errors.js';

export interface HourglassConfig {
  /** Number of stacked hourglasses (each one produces a heatmap prediction). */
  readonly stacks: number;
  /** Feature channels inside the hourglasses (the paper's f = 256). */
  readonly features: number;
  /** Residual modules per step ("Residual modules" in docs/method.md "Network"; 1 in the paper's final models). */
  readonly modules: number;
  /** Output heatmaps, one per joint. */
  readonly joints: number;
  /** Input side in pixels (square); heatmaps are input/4. Must be divisible by 64 (stem /4, then 4 pools). */
  readonly inputSize: number;
  /** Depth of the recursive hourglass (4 in the paper: 64 -> 32 -> 16 -> 8 -> 4). */
  readonly depth: number;
}

export const DEFAULT_CONFIG: HourglassConfig = {
  stacks: 2,
  features: 256,
  modules: 1,
  joints: 16,
  inputSize: 256,
  depth: 4,
};

const LIMITS: Record<keyof HourglassConfig, [number, number]> = {
  stacks: [1, 16],
  features: [4, 2048],
  modules: [1, 8],
  joints: [1, 256],
  inputSize: [16, 4096],
  depth: [1, 8],
};

/** Builds a full config from partial options and checks every field; errors name the field and the allowed values. */
export function makeConfig(partial: Partial<HourglassConfig> = {}): HourglassConfig {
  // Fields given as undefined take their defaults.
  const given = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const config: HourglassConfig = { ...DEFAULT_CONFIG, ...given };
  for (const key of Object.keys(LIMITS) as (keyof HourglassConfig)[]) {
    const value = config[key];
    const [lo, hi] = LIMITS[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
      throw new InvalidArgumentError(`config.${key} must be an integer in [${lo}, ${hi}], got ${String(value)}`);
    }
  }
  for (const key of Object.keys(given)) {
    if (!(key in LIMITS)) {
      throw new InvalidArgumentError(`unknown config key '${key}' (known: ${Object.keys(LIMITS).join(', ')})`);
    }
  }
  if (config.features % 2 !== 0) {
    throw new InvalidArgumentError(`config.features must be even (the bottleneck uses features/2), got ${config.features}`);
  }
  const divisor = 4 * 2 ** config.depth;
  if (config.inputSize % divisor !== 0) {
    throw new InvalidArgumentError(
      `config.inputSize must be divisible by ${divisor} (stem /4, then ${config.depth} poolings), got ${config.inputSize}`,
    );
  }
  return config;
}

/** Heatmap side for a network's input side: input / 4 (the stem's stride). */
export function heatmapSize(config: Pick<HourglassConfig, 'inputSize'>): number {
  return config.inputSize / 4;
}
