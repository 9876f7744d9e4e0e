// The bench report: ratios from hand-made results (exact), missing engines give null, and the table names every
// engine, ratio, failure and note.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeRatios, formatReport, type BenchReport } from '../../src/bench/report.js';
import type { EngineResult } from '../../src/bench/configs.js';

function result(engine: EngineResult['engine'], inferMs: number | null, trainImgPerSec: number | null, peakRssMb: number): EngineResult {
  return { engine, config: 'small', inferMs, trainImgPerSec, peakRssMb, trainBatch: trainImgPerSec ? 16 : null, trainSteps: trainImgPerSec ? 3 : 0, parameters: 950800, version: 'v' };
}

const RESULTS = [result('native', 10, 30, 900), result('wasm', 50, 1.5, 3000), result('pytorch', 20, 24, 600), result('onnxruntime', 5, null, 100)];

test('ratios are native/PyTorch for throughput, PyTorch/native for latency, native/PyTorch for memory', () => {
  const r = computeRatios(RESULTS, 'small');
  assert.equal(r.trainNativeOverPytorch, 30 / 24);
  assert.equal(r.inferPytorchOverNative, 2);
  assert.equal(r.inferNativeOverOnnxruntime, 2);
  assert.equal(r.peakRssNativeOverPytorch, 1.5);
  assert.equal(r.trainNativeOverWasm, 20);
});

test('a ratio with a missing engine is null', () => {
  const r = computeRatios([result('native', 10, 30, 900)], 'small');
  assert.equal(r.trainNativeOverPytorch, null);
  assert.equal(r.inferNativeOverOnnxruntime, null);
  assert.deepEqual(computeRatios([], 'paper2').inferPytorchOverNative, null);
});

test('the table shows every engine, the ratios, the pipeline, parameters, notes and skipped engines', () => {
  const report: BenchReport = {
    results: RESULTS,
    failures: [{ engine: 'wasm', config: 'paper2', reason: 'out of memory' }],
    ratios: { small: computeRatios(RESULTS, 'small') },
    pipeline: { small: { inputSize: 128, batch: 16, workers: 1, imagesPerSecond: 120, data: 'lspet /data', overNativeTraining: 4 } },
    parameters: { small: { tfjs: 950800, pytorch: 950800 } },
    machine: { cpus: 2, cpuModel: 'cpu', memoryGb: 8, tfjs: 'TF.js 4.22.0', torch: 'torch 1.13', onnxruntime: 'ort 1.30', loadStart: [1, 2, 3], loadEnd: [1, 1, 1] },
    settings: { steps: 3 },
    notes: ['wasm is slow'],
    elapsedSeconds: 12,
  };
  const text = formatReport(report, ['small']).join('\n');
  for (const engine of ['native', 'wasm', 'pytorch', 'onnxruntime']) assert.match(text, new RegExp(`small\\s+${engine}\\s`));
  assert.match(text, /training native\/PyTorch.*1\.25x/);
  assert.match(text, /latency PyTorch\/native.*2\.00x/);
  assert.match(text, /120\.0 \(4\.00x\)/);
  assert.match(text, /parameters: small 950,800 \(PyTorch peer: the same\)/);
  assert.match(text, /note: wasm is slow/);
  assert.match(text, /skipped wasm on paper2: out of memory/);
  assert.match(text, /load average 1 2 3 at start/);
});

test('webgpu is compared with PyTorch (on CUDA where it ran there), and its rows appear only when it ran', () => {
  const gpu = [{ ...result('webgpu', 20, 10, 500), device: 'NVIDIA H200 (hardware)' }, { ...result('pytorch', 10, 40, 900), device: 'cuda (NVIDIA H200)' }];
  const r = computeRatios(gpu, 'small');
  assert.equal(r.trainWebgpuOverPytorch, 0.25);
  assert.equal(r.inferPytorchOverWebgpu, 0.5);
  assert.equal(computeRatios(RESULTS, 'small').trainWebgpuOverPytorch, null);
  const report = (results: EngineResult[]): string => formatReport({
    results, failures: [], ratios: { small: computeRatios(results, 'small') }, pipeline: {}, parameters: {}, machine: {}, settings: { steps: 1 },
    notes: [], elapsedSeconds: 1,
  }, ['small']).join('\n');
  assert.match(report(gpu), /training webgpu\/PyTorch \(CUDA: target >= 0\.25, goal 0\.5\)\s+0\.25x/);
  assert.match(report(gpu), /latency PyTorch\/webgpu\s+0\.50x/);
  assert.doesNotMatch(report(RESULTS), /webgpu/);
});
