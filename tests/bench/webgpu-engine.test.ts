// The bench's TF.js child measuring the webgpu engine (Dawn; SwiftShader in CI): batch-1 inference on the tiny
// configuration, the result naming the device it ran on. Only inference: training on the software device takes
// minutes at the bench's sizes (the trainer's webgpu tests cover training).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runEngineChild, TFJS_CHILD } from '../../src/bench/children.js';
import type { MeasureRequest } from '../../src/bench/configs.js';
import { SKIP_WEBGPU, requireWebgpu } from '../backend/webgpu-env.js';
import { webgpuDeviceInfo } from '../../src/backend/webgpu/dawn.js';

test('bench measures webgpu batch-1 inference on tiny, naming the device', { skip: SKIP_WEBGPU, timeout: 120_000 }, async () => {
  requireWebgpu();
  const request: MeasureRequest = { engine: 'webgpu', config: 'tiny', inferRuns: 1, inferWarmup: 0, trainSteps: 0, trainWarmup: 0, trainBatch: 2 };
  const r = await runEngineChild(process.execPath, [TFJS_CHILD, JSON.stringify(request)], 110_000); // inherits VK_ICD_FILENAMES
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.equal(r.value.engine, 'webgpu');
  assert.ok(r.value.inferMs !== null && r.value.inferMs > 0, `inferMs ${r.value.inferMs}`);
  assert.equal(r.value.trainImgPerSec, null);
  assert.equal(r.value.parameters, 139_408);
  assert.equal(r.value.device, webgpuDeviceInfo()?.label);
});
