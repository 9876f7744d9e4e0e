// The native backend's precision switch: fp32, or bf16 convolutions with fp32 accumulation (native/src/precision.cc),
// taken only where oneDNN dispatches an ISA with bf16 instructions; and the CPU's own bf16 flags, for messages.
import { readFileSync } from 'node:fs';
import { BackendUnavailableError } from '../../errors.js';
import { loadAddon } from './addon.js';
import type { Bf16Layers, NativeAddon } from './addon.js';
import type { Precision } from '../precision.js';

/** What the CPU and oneDNN offer for bf16. */
export interface Bf16Support {
  /** oneDNN dispatches an ISA with bf16 instructions (avx512_core_bf16 or avx512_core_amx). */
  readonly native: boolean;
  /** The ISA oneDNN dispatches. */
  readonly isa: string;
  /** The bf16 flags /proc/cpuinfo lists (avx512_bf16, amx_bf16), empty when none or unreadable. */
  readonly cpuFlags: readonly string[];
}

function cpuBf16Flags(): string[] {
  try {
    const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].split(/\s+/) ?? [];
    return ['avx512_bf16', 'amx_bf16'].filter((f) => flags.includes(f));
  } catch {
    return [];
  }
}

function addon(): NativeAddon {
  const load = loadAddon();
  if (!load.ok) throw new BackendUnavailableError(`native backend unavailable: ${load.reason}`);
  return load.addon;
}

export function bf16Support(): Bf16Support {
  const info = addon().precisionInfo();
  return { native: info.nativeBf16, isa: info.isa, cpuFlags: cpuBf16Flags() };
}

function describe(s: Bf16Support): string {
  return `oneDNN dispatches ${s.isa}; CPU bf16 flags: ${s.cpuFlags.length ? s.cpuFlags.join(', ') : 'none'}`;
}

/**
 * Sets the training kernels' precision; 'auto' takes bf16 exactly where it runs natively. bf16 without native
 * instructions is a BackendUnavailableError (oneDNN would emulate it, slower than fp32). Returns what was taken and why.
 * Under bf16 each convolution pass runs in bf16 only where its first calls measured it faster than fp32 (`layers`
 * 'measured', the default), or every pass does ('all': kernel tests).
 */
export function setNativePrecision(
  request: Precision | 'auto',
  layers: Bf16Layers = 'measured',
): { precision: Precision; message: string } {
  const support = bf16Support();
  if (request === 'auto') {
    const precision: Precision = support.native ? 'bf16' : 'fp32';
    addon().setPrecision(precision, layers);
    return { precision, message: `precision: ${precision} (auto: ${describe(support)})` };
  }
  if (request === 'bf16' && !support.native) {
    throw new BackendUnavailableError(
      `precision bf16 needs native bf16 instructions (avx512_bf16 or amx_bf16) that oneDNN dispatches; not here (${describe(support)}); use --precision fp32 or auto`,
    );
  }
  addon().setPrecision(request, layers);
  return { precision: request, message: `precision: ${request}${request === 'bf16' ? ` (${describe(support)})` : ''}` };
}

/** Under bf16: convolution passes measured so far, and how many of them kept bf16 as the faster. */
export function bf16LayerChoices(): { measured: number; bf16: number } {
  const info = addon().precisionInfo();
  return { measured: info.bf16Layers, bf16: info.bf16Kept };
}

/** The precision the training kernels run in now. */
export function nativePrecision(): Precision {
  return addon().precisionInfo().precision;
}
