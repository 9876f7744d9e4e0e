// `hourglass bench` end to end: each engine on each configuration in its own child process, one after another in
// one run (side by side), then the data pipeline's rate; an engine that is missing or fails becomes one line why.
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { tf } from '../tf.js';
import { StackedHourglass } from '../model/network.js';
import {
  BENCH_CONFIGS, type BenchConfigName, type EngineFailure, type EngineName, type EngineResult, type MeasureRequest,
} from './configs.js';
import { findTorchPython, lastJsonLine, peerFiles, runCommand, runEngineChild, TFJS_CHILD, TORCH_ENV, type Outcome } from './children.js';
import { measurePipelines } from './pipeline-rate.js';
import { computeRatios, type BenchReport, type PipelineReport } from './report.js';
import { BF16_TRIAL_STEPS } from '../backend/precision.js';

export interface BenchOptions {
  readonly configs: readonly BenchConfigName[];
  readonly engines: readonly EngineName[];
  /** Timed inference runs and training steps per engine (wasm's training is capped lower, and says so). */
  readonly steps: number;
  /** Python with torch; default: probe python3, /usr/bin/python3. */
  readonly python?: string;
  /** Where the PyTorch peer runs: 'auto' is cuda when torch.cuda.is_available(), else cpu. Default 'auto'. */
  readonly torchDevice?: TorchDevice;
  /** LSPET folder for the pipeline rate; generated images when it is absent. */
  readonly lspetRoot: string;
  readonly workers: number;
  /** Per-child time limit, ms. */
  readonly timeoutMs: number;
}

export const TORCH_DEVICES = ['auto', 'cpu', 'cuda'] as const;
export type TorchDevice = (typeof TORCH_DEVICES)[number];

/** wasm trains ~20x slower and its 4 GB heap does not hold the 2-stack network above batch 2 (issue 3). */
const WASM_LIMITS: Readonly<Record<BenchConfigName, { batch: number | null; steps: number; inferRuns: number }>> = {
  small: { batch: null, steps: 2, inferRuns: 10 },
  paper2: { batch: 2, steps: 1, inferRuns: 5 },
  tiny: { batch: null, steps: 2, inferRuns: 5 },
};

function request(engine: EngineName, config: BenchConfigName, steps: number, notes: string[]): MeasureRequest {
  const batch = BENCH_CONFIGS[config].trainBatch;
  const warm = config === 'tiny' ? 1 : null; // a smoke test (e.g. webgpu on a software device): one warm-up is enough
  const base: MeasureRequest = { engine, config, inferRuns: steps, inferWarmup: warm ?? 3, trainSteps: steps, trainWarmup: warm ?? 2, trainBatch: batch };
  if (engine === 'onnxruntime') return { ...base, trainSteps: 0, trainWarmup: 0 };
  // Under bf16 each convolution pass is timed in both precisions on its first 6 calls (BF16_TRIAL_STEPS):
  // those steps are warm-up, not the speed it trains at.
  if (engine === 'native-bf16' && warm === null) return { ...base, trainWarmup: BF16_TRIAL_STEPS };
  if (engine !== 'wasm') return base;
  const limit = WASM_LIMITS[config];
  const r = { ...base, inferRuns: Math.min(steps, limit.inferRuns), inferWarmup: 1, trainSteps: Math.min(steps, limit.steps), trainWarmup: 1, trainBatch: limit.batch ?? batch };
  const parts = [
    r.trainBatch !== batch ? `trains at batch ${r.trainBatch} (its 4 GB memory does not hold batch ${batch})` : '',
    r.trainSteps < steps ? `training is timed over ${r.trainSteps} step${r.trainSteps > 1 ? 's' : ''} after 1 warm-up (it is slow)` : '',
    r.inferRuns < steps ? `inference over ${r.inferRuns} runs` : '',
  ].filter((p) => p);
  if (parts.length) notes.push(`wasm on ${config}: ${parts.join('; ')}`);
  return r;
}

interface Peers {
  readonly python: Outcome<{ python: string; torch: string }>;
  readonly files: Outcome<{ torchScript: string; onnxChild: string }>;
}

function modelArgs(config: BenchConfigName): string[] {
  const m = BENCH_CONFIGS[config].model;
  return ['--stacks', String(m.stacks), '--features', String(m.features), '--input', String(m.inputSize), '--joints', String(m.joints)];
}

async function measure(engine: EngineName, req: MeasureRequest, peers: Peers, onnxDir: string, timeoutMs: number, torchDevice: TorchDevice): Promise<Outcome<EngineResult>> {
  if (engine === 'native' || engine === 'native-bf16' || engine === 'wasm' || engine === 'webgpu') return runEngineChild(process.execPath, [TFJS_CHILD, JSON.stringify(req)], timeoutMs);
  if (!peers.files.ok) return peers.files;
  if (!peers.python.ok) return { ok: false, reason: engine === 'onnxruntime' ? `needs PyTorch to export the ONNX model: ${peers.python.reason}` : peers.python.reason };
  const { python } = peers.python.value;
  const { torchScript, onnxChild } = peers.files.value;
  if (engine === 'pytorch') return runEngineChild(python, [torchScript, JSON.stringify(req), ...modelArgs(req.config), '--device', torchDevice], timeoutMs, TORCH_ENV);
  const file = join(onnxDir, `${req.config}.onnx`);
  const exported = await runCommand(python, [torchScript, '--export', file, ...modelArgs(req.config)], timeoutMs, TORCH_ENV);
  if (!exported.ok) return { ok: false, reason: `ONNX export failed: ${exported.reason}` };
  const line = lastJsonLine(exported.value);
  const parameters = line.ok && typeof line.value === 'object' && line.value !== null ? Number((line.value as Record<string, unknown>)['parameters']) : 0;
  const side = String(BENCH_CONFIGS[req.config].model.inputSize);
  return runEngineChild(process.execPath, [onnxChild, JSON.stringify(req), file, side, String(parameters)], timeoutMs);
}

function describe(r: EngineResult, seconds: number): string {
  const infer = r.inferMs == null ? '' : `infer ${r.inferMs.toFixed(1)} ms`;
  const train = r.trainImgPerSec == null ? '' : `, train ${r.trainImgPerSec.toFixed(2)} img/s (batch ${r.trainBatch})`;
  return `${r.config} ${r.engine}: ${infer}${train}, peak ${r.peakRssMb.toFixed(0)} MB${r.device ? ` on ${r.device}` : ''} (${seconds.toFixed(0)} s)`;
}

/** Runs the whole bench; `log` gets one progress line per measurement. */
export async function runBench(o: BenchOptions, log: (line: string) => void): Promise<BenchReport> {
  const t0 = performance.now();
  const loadStart = loadavg().map((x) => Number(x.toFixed(2)));
  const wantsPeers = o.engines.includes('pytorch') || o.engines.includes('onnxruntime');
  const peers: Peers = {
    files: peerFiles(),
    python: wantsPeers ? await findTorchPython(o.python) : { ok: false, reason: 'not asked for' },
  };
  const results: EngineResult[] = [];
  const failures: EngineFailure[] = [];
  const notes: string[] = [];
  const onnxDir = await mkdtemp(join(tmpdir(), 'hourglass-bench-onnx-'));
  try {
    for (const config of o.configs) {
      for (const engine of o.engines) {
        const started = performance.now();
        const outcome = await measure(engine, request(engine, config, o.steps, notes), peers, onnxDir, o.timeoutMs, o.torchDevice ?? 'auto');
        const seconds = (performance.now() - started) / 1000;
        if (outcome.ok) {
          results.push(outcome.value);
          log(describe(outcome.value, seconds));
        } else {
          failures.push({ engine, config, reason: outcome.reason });
          log(`${config} ${engine}: skipped: ${outcome.reason}`);
        }
      }
    }
  } finally {
    await rm(onnxDir, { recursive: true, force: true });
  }
  const pipeline: Record<string, PipelineReport> & { error?: string } = {};
  try {
    const shapes = o.configs.map((c) => ({ inputSize: BENCH_CONFIGS[c].model.inputSize, batch: BENCH_CONFIGS[c].trainBatch }));
    const batches = Math.max(4, Math.ceil((16 * o.steps) / Math.max(...shapes.map((s) => s.batch))));
    const rates = await measurePipelines(shapes, o.lspetRoot, o.workers, batches);
    o.configs.forEach((c, i) => {
      const native = results.find((r) => r.engine === 'native' && r.config === c)?.trainImgPerSec;
      pipeline[c] = { ...rates[i], overNativeTraining: native ? rates[i].imagesPerSecond / native : null };
      log(`${c} pipeline: ${rates[i].imagesPerSecond.toFixed(1)} img/s (${rates[i].data})`);
    });
  } catch (err) {
    pipeline.error = (err as Error).message.split('\n')[0];
    log(`pipeline: not measured: ${pipeline.error}`);
  }
  const ratios = Object.fromEntries(o.configs.map((c) => [c, computeRatios(results, c)]));
  const parameters = Object.fromEntries(o.configs.map((c) => [c, {
    tfjs: new StackedHourglass(BENCH_CONFIGS[c].model).parameterCount(),
    pytorch: results.find((r) => r.engine === 'pytorch' && r.config === c)?.parameters ?? null,
  }]));
  for (const engine of ['webgpu', 'pytorch'] as const) {
    const devices = [...new Set(results.filter((r) => r.engine === engine && r.device).map((r) => r.device))];
    if (devices.length) notes.push(`${engine} ran on ${devices.join(', ')}`);
  }
  for (const r of results) if (r.profile) notes.push(`${r.engine} on ${r.config}: ${r.profile}`);
  if (results.some((r) => r.engine === 'pytorch' && r.device?.startsWith('cuda'))) {
    notes.push('PyTorch ran on the GPU: compare it with webgpu; the native/PyTorch ratios compare a CPU with a GPU');
  }
  for (const [c, p] of Object.entries(parameters)) {
    if (p.pytorch != null && p.pytorch !== p.tfjs) notes.push(`the PyTorch peer of ${c} has ${p.pytorch} parameters, TF.js ${p.tfjs}: the networks differ`);
  }
  const version = (engine: EngineName) => results.find((r) => r.engine === engine)?.version ?? null;
  const cpu = cpus()[0];
  return {
    results, failures, ratios, pipeline, parameters, notes,
    machine: {
      cpus: availableParallelism(), cpuModel: cpu ? cpu.model.trim() : 'unknown', memoryGb: Number((totalmem() / 2 ** 30).toFixed(1)),
      platform: `${process.platform} ${process.arch}`, node: process.version, tfjs: `TF.js ${tf.version_core}`,
      torch: peers.python.ok ? `torch ${peers.python.value.torch} (${peers.python.value.python})` : null,
      onnxruntime: version('onnxruntime'), loadStart, loadEnd: loadavg().map((x) => Number(x.toFixed(2))),
    },
    settings: { steps: o.steps, workers: o.workers, configs: o.configs.join(','), engines: o.engines.join(',') },
    elapsedSeconds: (performance.now() - t0) / 1000,
  };
}
