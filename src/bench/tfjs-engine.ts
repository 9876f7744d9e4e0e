// Child process of `hourglass bench` for the TF.js engines (native, native-bf16, wasm, webgpu): builds the network on one backend,
// times batch-1 inference and training steps (loss + gradients + RMSprop, as the trainer does), prints one JSON line.
// Results are read back asynchronously (a GPU backend cannot read synchronously in Node), which also waits for the GPU.
// Usage: node dist/src/bench/tfjs-engine.js '<MeasureRequest as JSON>'
import { performance } from 'node:perf_hooks';
import { tf } from '../tf.js';
import type { Tensor, Tensor2D, Tensor4D } from '../tf.js';
import { useBackend } from '../backend/select.js';
import { usePrecision } from '../backend/precision.js';
import { checkWebgpuDevice, webgpuDeviceInfo, webgpuFailure } from '../backend/webgpu/dawn.js';
import { HourglassModel } from '../model/model.js';
import { heatmapLoss } from '../train/loss.js';
import { Rmsprop } from '../train/rmsprop.js';
import { heatmapSize } from '../model/config.js';
import { BENCH_CONFIGS, peakRssMb, type EngineResult, type MeasureRequest } from './configs.js';

const LEARNING_RATE = 2.5e-4;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median ms of `runs` batch-1 predictions (result read back each time), after `warmup` untimed ones. */
async function timeInference(model: HourglassModel, runs: number, warmup: number): Promise<number> {
  const s = model.config.inputSize;
  const x = tf.randomUniform([1, s, s, 3], 0, 1, 'float32', 3) as Tensor4D; // [1, S, S, 3]
  const times: number[] = [];
  try {
    for (let i = 0; i < warmup + runs; i++) {
      const t0 = performance.now();
      const y = model.predict(x);
      try {
        await y.data();
      } finally {
        y.dispose();
      }
      if (i >= warmup) times.push(performance.now() - t0);
    }
  } finally {
    x.dispose();
  }
  return median(times);
}

/** Training images/s over `steps` timed steps of batch `batch`, after `warmup` untimed ones; on webgpu, where the time goes. */
async function timeTraining(model: HourglassModel, batch: number, steps: number, warmup: number, profile: boolean): Promise<{ imgPerSec: number; profile?: string }> {
  const { inputSize: s, joints: k } = model.config;
  const vars = model.params.trainable();
  const varList = [...vars.values()];
  const nameOf = new Map([...vars].map(([name, v]) => [v.name, name]));
  const optimizer = new Rmsprop(vars);
  const x = tf.randomUniform([batch, s, s, 3], 0, 1, 'float32', 1) as Tensor4D; // [B, S, S, 3]
  const y = tf.randomUniform([batch, heatmapSize(model.config), heatmapSize(model.config), k], 0, 1, 'float32', 2) as Tensor4D; // [B, S/4, S/4, K]
  const w = tf.ones([batch, k]) as Tensor2D; // [B, K]
  /** Issues one step's kernels; returns the loss, not yet read. */
  const issue = (): Tensor => tf.tidy(() => {
    const r = tf.variableGrads(() => heatmapLoss(model.forward(x, { training: true }), y, w), varList);
    const byName = new Map<string, Tensor>(Object.entries(r.grads).map(([id, g]) => [nameOf.get(id) as string, g]));
    optimizer.apply(byName, LEARNING_RATE);
    return r.value;
  });
  const finish = async (value: Tensor): Promise<void> => {
    try {
      const loss = (await value.data())[0];
      if (!Number.isFinite(loss)) throw new Error(`training step gave a non-finite loss (${loss})`);
    } finally {
      value.dispose();
    }
    checkWebgpuDevice();
  };
  try {
    for (let i = 0; i < warmup; i++) await finish(issue());
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await finish(issue());
    const imgPerSec = (batch * steps * 1000) / (performance.now() - t0);
    return profile ? { imgPerSec, profile: await profileWebgpuStep(issue, finish) } : { imgPerSec };
  } finally {
    tf.dispose([x, y, w]);
    optimizer.dispose();
  }
}

/**
 * Where a webgpu training step's time goes (issue 22): GPU programs dispatched in one step and its wall time, then
 * the GPU's own time over another step from timestamp queries, where the device has them (Dawn may need
 * HOURGLASS_DAWN_OPTIONS='enable-dawn-features=allow_unsafe_apis'); timing each program alters the step, so its
 * wall time is not used.
 */
async function profileWebgpuStep(issue: () => Tensor, finish: (value: Tensor) => Promise<void>): Promise<string> {
  const backend = tf.backend() as unknown as { runWebGPUProgram: (...args: unknown[]) => unknown };
  const run = backend.runWebGPUProgram;
  let dispatches = 0;
  backend.runWebGPUProgram = function counted(this: unknown, ...args: unknown[]) {
    dispatches += 1;
    return run.apply(this, args);
  };
  let wallMs: number;
  try {
    const t0 = performance.now();
    await finish(issue());
    wallMs = performance.now() - t0;
  } finally {
    backend.runWebGPUProgram = run;
  }
  const perDispatch = `${dispatches} GPU programs dispatched per training step, ${(wallMs / Math.max(1, dispatches)).toFixed(3)} ms of wall time each (${wallMs.toFixed(0)} ms step)`;
  let value: Tensor | null = null;
  const timing = await tf.time(() => {
    value = issue();
  });
  if (value) await finish(value);
  const kernelMs = typeof timing.kernelMs === 'number' && timing.kernelMs > 0 ? timing.kernelMs : null;
  return kernelMs === null
    ? `${perDispatch}; GPU time not measured (no timestamp-query on this device)`
    : `${perDispatch}; the GPU's own time for a step: ${kernelMs.toFixed(0)} ms (timestamp queries, over another step)`;
}

/** Runs one phase; its error says which phase failed (and, for wasm's bare abort, the likely cause). */
async function phase<T>(request: MeasureRequest, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const failure = await webgpuFailure(err);
    const message = failure ? failure.message : err instanceof Error ? err.message : String(err);
    const likely = request.engine === 'wasm' && /^Aborted\(/.test(message) ? ', most likely out of wasm\'s 4 GB memory' : '';
    throw new Error(`${what} failed: ${message.split('\n')[0]}${likely}`);
  }
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '') as MeasureRequest;
  if (request.engine !== 'native' && request.engine !== 'native-bf16' && request.engine !== 'wasm' && request.engine !== 'webgpu') {
    throw new Error(`tfjs-engine measures native, native-bf16, wasm or webgpu, got '${request.engine}'`);
  }
  const config = BENCH_CONFIGS[request.config];
  if (!config) throw new Error(`unknown bench config '${request.config}'`);
  const bf16 = request.engine === 'native-bf16';
  await useBackend(bf16 ? 'native' : request.engine);
  await usePrecision(bf16 ? 'bf16' : 'fp32', bf16 ? 'native' : request.engine);
  const model = HourglassModel.create(config.model, 1);
  try {
    const inferMs = request.inferRuns > 0 ? await phase(request, 'inference at batch 1', () => timeInference(model, request.inferRuns, request.inferWarmup)) : null;
    const training = request.trainSteps > 0
      ? await phase(request, `training at batch ${request.trainBatch}`, () => timeTraining(model, request.trainBatch, request.trainSteps, request.trainWarmup, request.engine === 'webgpu'))
      : null;
    const trainImgPerSec = training ? training.imgPerSec : null;
    const gpu = request.engine === 'webgpu' ? webgpuDeviceInfo() : null;
    const result: EngineResult = {
      engine: request.engine,
      config: request.config,
      inferMs,
      trainImgPerSec,
      peakRssMb: peakRssMb(),
      trainBatch: request.trainSteps > 0 ? request.trainBatch : null,
      trainSteps: request.trainSteps,
      parameters: model.parameterCount(),
      version: `tfjs ${tf.version_core}`,
      ...(gpu ? { device: gpu.label } : {}),
      ...(training?.profile ? { profile: training.profile } : {}),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    model.dispose();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
