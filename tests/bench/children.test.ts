// Child-process plumbing of the bench: result lines are found and checked field by field, and a child that fails,
// cannot start or runs too long becomes one line that says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lastJsonLine, parseEngineResult, runCommand, runEngineChild } from '../../src/bench/children.js';

const GOOD = { engine: 'native', config: 'small', inferMs: 12.5, trainImgPerSec: 30, peakRssMb: 800, trainBatch: 16, trainSteps: 3, parameters: 950800, version: 'tfjs 4.22.0' };

test('the last JSON line of a child is its result', () => {
  const r = lastJsonLine(`warming up\n{"a":1}\nprogress\n${JSON.stringify(GOOD)}\n`);
  assert.ok(r.ok);
  assert.deepEqual(r.value, GOOD);
  assert.deepEqual(lastJsonLine('no json here\n'), { ok: false, reason: 'printed no JSON result line' });
  assert.match((lastJsonLine('{oops\n') as { reason: string }).reason, /not JSON/);
});

test('a result with a wrong field is rejected naming the field', () => {
  assert.ok(parseEngineResult(GOOD).ok);
  assert.ok(parseEngineResult({ ...GOOD, device: 'cuda (NVIDIA H200)' }).ok);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...GOOD, engine: 'tpu' }, /field 'engine' is "tpu", expected native \| native-bf16 \| wasm \| webgpu \| pytorch \| onnxruntime/],
    [{ ...GOOD, config: 'huge' }, /field 'config'/],
    [{ ...GOOD, inferMs: 'fast' }, /field 'inferMs' is "fast", expected a number or null/],
    [{ ...GOOD, peakRssMb: null }, /field 'peakRssMb'/],
    [{ ...GOOD, version: 3 }, /field 'version'/],
    [{ ...GOOD, device: 0 }, /field 'device' is 0, expected a string when present/],
  ];
  for (const [value, reason] of cases) {
    const r = parseEngineResult(value);
    assert.ok(!r.ok && reason.test(r.reason), JSON.stringify(r));
  }
  assert.deepEqual(parseEngineResult([1]).ok, false);
});

test('failures become one line: the last stderr line and the exit code, a missing program, a timeout', async () => {
  const node = process.execPath;
  const failed = await runCommand(node, ['-e', "process.stderr.write('warming\\nkernel missing\\n'); process.exit(3)"], 30_000);
  assert.deepEqual(failed, { ok: false, reason: 'kernel missing (exited with code 3)' });
  const missing = await runCommand('/nonexistent/python3', ['-c', 'pass'], 30_000);
  assert.ok(!missing.ok && /cannot run \/nonexistent\/python3/.test(missing.reason));
  const slow = await runCommand(node, ['-e', 'setTimeout(() => {}, 60000)'], 300);
  assert.deepEqual(slow, { ok: false, reason: 'timed out after 0.3 s' });
  const ok = await runEngineChild(node, ['-e', `console.log(${JSON.stringify(JSON.stringify(GOOD))})`], 30_000);
  assert.deepEqual(ok, { ok: true, value: GOOD });
});
