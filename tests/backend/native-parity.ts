// Helpers of the native backend's parity tests: load-or-skip, seeded random inputs, and running one computation
// on the `cpu` reference and on `native` to compare every output with a relative tolerance.
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import type { Tensor } from '../../src/tf.js';
import { loadNativeBackend, nativeKernelCalls } from '../../src/backend/native/index.js';

/** Relative error allowed between native and cpu outputs: max |a - b| / max |b|. */
export const RTOL = 1e-4;

const loaded = await loadNativeBackend();
const required = process.env.HOURGLASS_REQUIRE_NATIVE === '1';

/**
 * `skip` option for node:test: a visible reason when the addon is not built, unless HOURGLASS_REQUIRE_NATIVE=1
 * (CI), where the tests run and fail through requireNative().
 */
export const SKIP_NATIVE: string | false =
  loaded.ok || required ? false : `native backend unavailable: ${loaded.ok ? '' : loaded.reason}`;

export function requireNative(): void {
  if (!loaded.ok) assert.fail(`native backend required (HOURGLASS_REQUIRE_NATIVE=1) but unavailable: ${loaded.reason}`);
}

/** Deterministic uniform values in [lo, hi) (a small LCG; tests must not depend on Math.random). */
export function randomArray(size: number, seed: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(size);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((s >>> 8) / 16777216) * (hi - lo);
  }
  return out;
}

export function randomTensor(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  return tf.tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed, lo, hi), shape, 'float32');
}

async function runOn(backend: string, fn: () => Tensor[]): Promise<{ shape: number[]; data: Float32Array }[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => fn().map((t) => ({ shape: t.shape, data: Float32Array.from(t.dataSync()) })));
}

export function relativeError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/**
 * Runs `fn` (which builds its inputs itself, e.g. with randomTensor) on cpu and on native and asserts every
 * output matches in shape and within RTOL. `kernels` must each have run natively at least once (no silent fallback).
 */
export async function assertParity(what: string, fn: () => Tensor[], kernels: string[] = [], rtol = RTOL): Promise<void> {
  requireNative();
  const expected = await runOn('cpu', fn);
  const before = kernels.map((k) => nativeKernelCalls(k));
  let actual: Awaited<ReturnType<typeof runOn>>;
  try {
    actual = await runOn('native', fn);
  } finally {
    await tf.setBackend('cpu');
  }
  kernels.forEach((k, i) => assert.ok(nativeKernelCalls(k) > before[i], `${what}: kernel ${k} did not run natively`));
  assert.equal(actual.length, expected.length, `${what}: number of outputs`);
  expected.forEach((e, i) => {
    assert.deepEqual(actual[i].shape, e.shape, `${what}: output ${i} shape`);
    const err = relativeError(actual[i].data, e.data);
    assert.ok(err <= rtol, `${what}: output ${i} relative error ${err.toExponential(2)} > ${rtol}`);
  });
}

/** Gradients of sum(f(xs) * r) with respect to xs, r a fixed random weighting so every output element matters. */
export function weightedGrads(f: (...xs: Tensor[]) => Tensor, xs: Tensor[], seed: number): Tensor[] {
  const g = tf.grads((...args: Tensor[]) => {
    const y = f(...args);
    return tf.sum(tf.mul(y, randomTensor(y.shape, seed)));
  });
  return g(xs);
}
