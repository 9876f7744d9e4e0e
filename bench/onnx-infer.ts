// onnxruntime-node peer for `hourglass bench` (bench only; onnxruntime-node is not a dependency: install it by hand to compare): batch-1
// inference latency of the network exported to ONNX by bench/torch-hourglass.py. Prints one JSON line.
// Usage: node dist/bench/onnx-infer.js '<MeasureRequest JSON>' model.onnx <input side> <parameters>
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { peakRssMb, type EngineResult, type MeasureRequest } from '../src/bench/configs.js';

/** The part of onnxruntime-node's API used here (it is optional, so its types cannot be imported statically). */
interface OrtTensor {
  readonly data: ArrayLike<number>;
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  readonly inputNames: readonly string[];
}
interface Ort {
  readonly InferenceSession: {
    create(path: string, options: { intraOpNumThreads: number; interOpNumThreads: number; graphOptimizationLevel: 'all' }): Promise<OrtSession>;
  };
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  readonly env: { readonly versions: { readonly node?: string } };
}

async function loadOrt(): Promise<Ort> {
  const specifier = 'onnxruntime-node';
  try {
    const mod = (await import(specifier)) as { default?: Ort } & Ort;
    return mod.default ?? mod;
  } catch (err) {
    throw new Error(`onnxruntime-node is not installed (bench only, not a dependency: ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install --no-save onnxruntime-node): ${(err as Error).message.split('\n')[0]}`);
  }
}

async function main(): Promise<void> {
  const [json, modelPath, sideText, paramText] = process.argv.slice(2);
  if (!json || !modelPath || !sideText) throw new Error('usage: onnx-infer.js <MeasureRequest JSON> <model.onnx> <input side> <parameters>');
  const request = JSON.parse(json) as MeasureRequest;
  const side = Number(sideText);
  const ort = await loadOrt();
  const threads = availableParallelism();
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const image = new ort.Tensor('float32', Float32Array.from({ length: 3 * side * side }, (_, i) => (i % 255) / 255), [1, 3, side, side]);
  const times: number[] = [];
  for (let i = 0; i < request.inferWarmup + request.inferRuns; i++) {
    const t0 = performance.now();
    const out = await session.run({ [session.inputNames[0]]: image });
    if (!Object.values(out)[0]?.data.length) throw new Error('onnxruntime returned no heatmaps');
    if (i >= request.inferWarmup) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const result: EngineResult = {
    engine: 'onnxruntime',
    config: request.config,
    inferMs: times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2,
    trainImgPerSec: null,
    peakRssMb: peakRssMb(),
    trainBatch: null,
    trainSteps: 0,
    parameters: Number(paramText ?? 0),
    version: `onnxruntime-node ${ort.env.versions.node ?? '?'} (${threads} threads)`,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
