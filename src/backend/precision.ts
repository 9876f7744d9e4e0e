// Numeric precision of a run: fp32 everywhere, or bf16 convolutions with fp32 accumulation, weights, optimiser state,
// batch norm and loss (the native backend only). The single place that parses the choice and applies it.
import { BackendUnavailableError, InvalidArgumentError } from '../errors.js';
import type { Bf16Layers } from './native/addon.js';

export const PRECISIONS = ['fp32', 'bf16'] as const;
/**
 * Under bf16 on native, each convolution pass is timed in bf16 and fp32 on its first 6 calls (PrecisionTrial::TRIALS,
 * native/src/common.h): training steps before that are a measurement, not the speed it trains at.
 */
export const BF16_TRIAL_STEPS = 6;
export type Precision = (typeof PRECISIONS)[number];
export type PrecisionRequest = Precision | 'auto';

export function parsePrecision(value: string): PrecisionRequest {
  if (value === 'auto' || (PRECISIONS as readonly string[]).includes(value)) return value as PrecisionRequest;
  throw new InvalidArgumentError(`unknown precision '${value}' (choose one of: fp32, bf16, auto)`);
}

/**
 * Makes `request` the precision of `backend`'s kernels and says what was taken. Only `native` has bf16: elsewhere
 * 'auto' is fp32 and 'bf16' an error. On native, 'auto' takes bf16 where oneDNN dispatches bf16 instructions, and
 * `layers` says which convolution passes run in it: those measured faster in bf16 (default), or all (kernel tests).
 */
export async function usePrecision(
  request: PrecisionRequest,
  backend: string,
  layers: Bf16Layers = 'measured',
): Promise<{ precision: Precision; message: string }> {
  if (backend !== 'native') {
    if (request === 'bf16') throw new BackendUnavailableError(`precision bf16 runs only on the native backend (this run uses ${backend})`);
    return { precision: 'fp32', message: `precision: fp32${request === 'auto' ? ` (auto: bf16 needs the native backend, this is ${backend})` : ''}` };
  }
  const mod = (await import(new URL('./native/precision.js', import.meta.url).href)) as typeof import('./native/precision.js');
  return mod.setNativePrecision(request, layers);
}

/**
 * Under bf16 on native, once its convolution passes have been measured: a line saying how many kept bf16 (the others
 * run fp32, measured faster there); null before, and for fp32 or other backends.
 */
export async function bf16LayersMessage(precision: Precision, backend: string): Promise<string | null> {
  if (precision !== 'bf16' || backend !== 'native') return null;
  const mod = (await import(new URL('./native/precision.js', import.meta.url).href)) as typeof import('./native/precision.js');
  const { measured, bf16 } = mod.bf16LayerChoices();
  if (measured === 0) return null;
  return `bf16: ${bf16} of ${measured} convolution passes measured faster in bf16 and run in it; the other ${measured - bf16} run fp32`;
}
