// Shared test helpers: backend set-up and numeric comparisons.
import assert from 'node:assert/strict';
import { tf } from '../src/tf.js';

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
