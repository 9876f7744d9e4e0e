// What `hourglass bench` prints: the ratios the targets are read from, and the side-by-side table.
// Pure functions of the measurements, so the layout is tested without running anything.
import type { BenchConfigName, EngineFailure, EngineResult } from './configs.js';
import type { PipelineRate } from './pipeline-rate.js';

export interface ConfigRatios {
  /** Training images/s native / PyTorch (target >= 1.0, goal 1.2). */
  readonly trainNativeOverPytorch: number | null;
  /** Inference latency PyTorch / native (target >= 1.0: native at least as fast). */
  readonly inferPytorchOverNative: number | null;
  /** Inference latency native / onnxruntime (the goal is 1.0). */
  readonly inferNativeOverOnnxruntime: number | null;
  /** Peak RSS native / PyTorch (target <= 1.5). */
  readonly peakRssNativeOverPytorch: number | null;
  /** Training images/s native / wasm. */
  readonly trainNativeOverWasm: number | null;
  /** Training images/s native-bf16 / native fp32 (issue 16: target >= 1.6, goal 2). */
  readonly trainBf16OverNative: number | null;
  /** Peak RSS native-bf16 / native (target <= 1). */
  readonly peakRssBf16OverNative: number | null;
  /** Batch-1 latency native-bf16 / onnxruntime (target <= 1, goal 0.5). */
  readonly inferBf16OverOnnxruntime: number | null;
  /** Training images/s webgpu / PyTorch (issue 22, with PyTorch on CUDA: target >= 0.25, goal 0.5). */
  readonly trainWebgpuOverPytorch: number | null;
  /** Batch-1 latency PyTorch / webgpu (>= 1: webgpu as fast). */
  readonly inferPytorchOverWebgpu: number | null;
}

export interface PipelineReport extends PipelineRate {
  /** Pipeline images/s over native training images/s (issue 4: >= 3). */
  readonly overNativeTraining: number | null;
}

export interface BenchReport {
  readonly results: EngineResult[];
  readonly failures: EngineFailure[];
  readonly ratios: Partial<Record<BenchConfigName, ConfigRatios>>;
  readonly pipeline: Partial<Record<BenchConfigName, PipelineReport>> & { readonly error?: string };
  /** Trainable parameters per config: TF.js (hourglass info) and the PyTorch peer's count, when it ran. */
  readonly parameters: Partial<Record<BenchConfigName, { readonly tfjs: number; readonly pytorch: number | null }>>;
  readonly machine: Readonly<Record<string, string | number | number[] | null>>;
  readonly settings: Readonly<Record<string, string | number>>;
  readonly notes: string[];
  readonly elapsedSeconds: number;
}

function find(results: readonly EngineResult[], engine: string, config: string): EngineResult | undefined {
  return results.find((r) => r.engine === engine && r.config === config);
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a != null && b != null && b > 0 ? a / b : null;
}

export function computeRatios(results: readonly EngineResult[], config: BenchConfigName): ConfigRatios {
  const native = find(results, 'native', config);
  const torch = find(results, 'pytorch', config);
  const bf16 = find(results, 'native-bf16', config);
  return {
    trainNativeOverPytorch: ratio(native?.trainImgPerSec, torch?.trainImgPerSec),
    inferPytorchOverNative: ratio(torch?.inferMs, native?.inferMs),
    inferNativeOverOnnxruntime: ratio(native?.inferMs, find(results, 'onnxruntime', config)?.inferMs),
    peakRssNativeOverPytorch: ratio(native?.peakRssMb, torch?.peakRssMb),
    trainNativeOverWasm: ratio(native?.trainImgPerSec, find(results, 'wasm', config)?.trainImgPerSec),
    trainBf16OverNative: ratio(bf16?.trainImgPerSec, native?.trainImgPerSec),
    peakRssBf16OverNative: ratio(bf16?.peakRssMb, native?.peakRssMb),
    inferBf16OverOnnxruntime: ratio(bf16?.inferMs, find(results, 'onnxruntime', config)?.inferMs),
    trainWebgpuOverPytorch: ratio(find(results, 'webgpu', config)?.trainImgPerSec, torch?.trainImgPerSec),
    inferPytorchOverWebgpu: ratio(torch?.inferMs, find(results, 'webgpu', config)?.inferMs),
  };
}

const num = (v: number | null | undefined, digits = 1): string => (v == null ? '—' : v.toFixed(digits));
const times = (v: number | null): string => (v == null ? '—' : `${v.toFixed(2)}x`);

function table(rows: readonly (readonly string[])[], rightFrom: number): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c >= rightFrom ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd());
}

/** The human-readable report, one string per line. */
export function formatReport(report: BenchReport, configs: readonly BenchConfigName[]): string[] {
  const m = report.machine;
  const load = (v: unknown) => (Array.isArray(v) ? v.join(' ') : String(v));
  const lines = [
    `hourglass bench: ${m['cpus']} cores (${m['cpuModel']}), ${m['memoryGb']} GB; load average ${load(m['loadStart'])} at start, ${load(m['loadEnd'])} at end` +
      ' (engines ran one after another in this run: compare them side by side, not with other runs)',
    `${m['tfjs']}; ${m['torch'] ?? 'no PyTorch'}; ${m['onnxruntime'] ?? 'no onnxruntime-node'}; --steps ${report.settings['steps']}`,
    '',
  ];
  const rows: string[][] = [['config', 'engine', 'infer b1 ms', 'train img/s', 'batch', 'steps', 'peak RSS MB']];
  for (const config of configs) {
    for (const r of report.results.filter((x) => x.config === config)) {
      rows.push([config, r.engine, num(r.inferMs), num(r.trainImgPerSec, 2), r.trainBatch == null ? '—' : String(r.trainBatch),
        r.trainSteps ? String(r.trainSteps) : '—', num(r.peakRssMb, 0)]);
    }
  }
  lines.push(...table(rows, 2), '');
  const ratioRows: string[][] = [['', ...configs]];
  const pick = (label: string, f: (r: ConfigRatios) => number | null) =>
    ratioRows.push([label, ...configs.map((c) => { const r = report.ratios[c]; return r ? times(f(r)) : '—'; })]);
  pick('training native/PyTorch (target >= 1, goal 1.2)', (r) => r.trainNativeOverPytorch);
  pick('latency PyTorch/native (target >= 1)', (r) => r.inferPytorchOverNative);
  pick('latency native/onnxruntime (goal 1)', (r) => r.inferNativeOverOnnxruntime);
  pick('peak RSS native/PyTorch (target <= 1.5)', (r) => r.peakRssNativeOverPytorch);
  pick('training native/wasm', (r) => r.trainNativeOverWasm);
  pick('training native-bf16/native (target >= 1.6, goal 2)', (r) => r.trainBf16OverNative);
  pick('peak RSS native-bf16/native (target <= 1)', (r) => r.peakRssBf16OverNative);
  pick('latency native-bf16/onnxruntime (target <= 1, goal 0.5)', (r) => r.inferBf16OverOnnxruntime);
  if (report.results.some((r) => r.engine === 'webgpu')) {
    pick('training webgpu/PyTorch (CUDA: target >= 0.25, goal 0.5)', (r) => r.trainWebgpuOverPytorch);
    pick('latency PyTorch/webgpu', (r) => r.inferPytorchOverWebgpu);
  }
  ratioRows.push(['pipeline img/s (x native training; >= 3)', ...configs.map((c) => {
    const p = report.pipeline[c];
    return p ? `${p.imagesPerSecond.toFixed(1)} (${times(p.overNativeTraining)})` : '—';
  })]);
  lines.push(...table(ratioRows, 1), '');
  const firstPipe = configs.map((c) => report.pipeline[c]).find((p) => p);
  if (firstPipe) lines.push(`pipeline: ${firstPipe.data}, ${firstPipe.workers} worker thread(s), each config's input size and training batch`);
  if (report.pipeline.error) lines.push(`pipeline: not measured: ${report.pipeline.error}`);
  const params = configs.map((c) => {
    const p = report.parameters[c];
    if (!p) return null;
    const peer = p.pytorch == null ? 'PyTorch peer not run' : p.pytorch === p.tfjs ? 'PyTorch peer: the same' : `PyTorch peer: ${p.pytorch.toLocaleString('en-US')}, DIFFERENT`;
    return `${c} ${p.tfjs.toLocaleString('en-US')} (${peer})`;
  }).filter((s) => s !== null);
  lines.push(`parameters: ${params.join('; ')}`);
  for (const note of report.notes) lines.push(`note: ${note}`);
  for (const f of report.failures) lines.push(`skipped ${f.engine} on ${f.config}: ${f.reason}`);
  lines.push(`(${report.elapsedSeconds.toFixed(0)} s)`);
  return lines;
}
