// Shared test helpers: backend set-up, numeric comparisons, a tiny pose checkpoint.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tf } from '../src/tf.js';
import { HourglassModel } from '../src/model/model.js';
import { saveModel } from '../src/model/checkpoint.js';
import { LSP14 } from '../src/data/skeletons/lsp.js';

/**
 * A tiny random LSP-14 pose model (1 stack, 8 features, 64 px input) saved as `dir`/tiny.ckpt with its skeleton: for
 * tests of the commands and the queue, where what matters is the path through them, not the poses.
 */
export async function tinyCheckpoint(dir: string): Promise<string> {
  const model = HourglassModel.create({ stacks: 1, features: 8, modules: 1, joints: 14, inputSize: 64, depth: 1 }, 5);
  const path = join(dir, 'tiny.ckpt');
  await saveModel(path, model, { meta: { skeleton: LSP14 } });
  model.dispose();
  return path;
}

/** Unit tests run on the pure-JS cpu backend (the reference) unless told otherwise. */
export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

export function assertClose(actual: number, expected: number, tol: number, what = 'value'): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: expected ${expected} ± ${tol}, got ${actual}`);
}

export function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what = 'array'): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: expected ${expected[i]} ± ${tol}, got ${actual[i]}`);
  }
}

/**
 * For tests that train for many steps: the native backend when it is built (CI requires it), else cpu.
 * (wasm trains only through src/backend/wasm-fixes.ts, and slowly.)
 */
export async function useTrainingBackend(): Promise<string> {
  const { useBackend } = await import('../src/backend/select.js');
  try {
    return (await useBackend('native')).name;
  } catch (err) {
    if (process.env['HOURGLASS_REQUIRE_NATIVE'] === '1') throw err;
    await useCpu();
    return 'cpu';
  }
}
