// The configurations and engines `hourglass bench` compares (issue "Native CPU backend"), and what one engine's
// measurement on one configuration reports. Shared by the bench command, its child processes and the report.
import { makeConfig, type HourglassConfig } from '../model/config.js';

/** tiny: a smoke test of an engine (a software GPU device, CI), not a measurement; bench runs it only when asked. */
export const BENCH_CONFIG_NAMES = ['small', 'paper2', 'tiny'] as const;
export type BenchConfigName = (typeof BENCH_CONFIG_NAMES)[number];
export const DEFAULT_BENCH_CONFIGS: readonly BenchConfigName[] = ['small', 'paper2'];

/**
 * native-bf16: the native backend with --precision bf16 (bf16 convolutions, fp32 accumulation; issue 16).
 * webgpu: TF.js on a GPU through Dawn (issue 22); measured only when asked for (it needs a GPU to mean anything).
 * pytorch: the PyTorch peer, on CUDA when torch sees a GPU (BenchOptions.torchDevice).
 */
export const ENGINE_NAMES = ['native', 'native-bf16', 'wasm', 'webgpu', 'pytorch', 'onnxruntime'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];
export const DEFAULT_ENGINES: readonly EngineName[] = ENGINE_NAMES.filter((e) => e !== 'webgpu');

export interface BenchConfig {
  readonly name: BenchConfigName;
  readonly model: HourglassConfig;
  /** Training batch size (the issue's: 16 for small, 4 for the 2-stack network). */
  readonly trainBatch: number;
}

export const BENCH_CONFIGS: Readonly<Record<BenchConfigName, BenchConfig>> = {
  small: { name: 'small', model: makeConfig({ stacks: 1, features: 128, inputSize: 128, joints: 16 }), trainBatch: 16 },
  paper2: { name: 'paper2', model: makeConfig({ stacks: 2, features: 256, inputSize: 256, joints: 16 }), trainBatch: 4 },
  tiny: { name: 'tiny', model: makeConfig({ stacks: 1, features: 16, inputSize: 64, joints: 16 }), trainBatch: 2 },
};

/** How one engine is to be measured on one configuration. */
export interface MeasureRequest {
  readonly engine: EngineName;
  readonly config: BenchConfigName;
  /** Timed batch-1 inference runs (the median is reported), after `inferWarmup` untimed ones. */
  readonly inferRuns: number;
  readonly inferWarmup: number;
  /** Timed training steps (0: no training), after `trainWarmup` untimed ones. */
  readonly trainSteps: number;
  readonly trainWarmup: number;
  readonly trainBatch: number;
}

/** What a child process prints as its last stdout line (JSON). */
export interface EngineResult {
  readonly engine: EngineName;
  readonly config: BenchConfigName;
  /** Median batch-1 inference latency, ms; null when not measured. */
  readonly inferMs: number | null;
  /** Training images per second; null when the engine does not train. */
  readonly trainImgPerSec: number | null;
  /** Peak resident memory of the engine's process, MB (2^20 bytes). */
  readonly peakRssMb: number;
  readonly trainBatch: number | null;
  readonly trainSteps: number;
  /** Trainable parameters of the network the engine built. */
  readonly parameters: number;
  /** Engine version (TF.js, torch or onnxruntime). */
  readonly version: string;
  /** What it ran on, where that is not this machine's CPU: webgpu's adapter, PyTorch's CUDA device. */
  readonly device?: string;
  /** Where a training step's time goes, when the engine can tell (webgpu: dispatches, wall and GPU time). */
  readonly profile?: string;
}

/** An engine that could not be measured: one line why. */
export interface EngineFailure {
  readonly engine: EngineName;
  readonly config: BenchConfigName;
  readonly reason: string;
}

/** Peak RSS of this process in MB, from the kernel's high-water mark. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
}
