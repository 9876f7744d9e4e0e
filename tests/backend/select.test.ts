// Backend selection: explicit names, unknown names, unavailable backends, 'auto' says what it took.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import { useBackend, parseBackendName, BACKEND_NAMES } from '../../src/backend/select.js';

test('explicit cpu and wasm backends are taken', async () => {
  for (const name of ['cpu', 'wasm'] as const) {
    const choice = await useBackend(name);
    assert.equal(choice.name, name);
    assert.equal(tf.getBackend(), name);
    assert.equal(tf.tidy(() => tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0]), 6);
  }
});

test('unknown names list the allowed set', () => {
  assert.throws(() => parseBackendName('gpu'), /unknown backend 'gpu' \(choose one of: auto, native, wasm, cpu, tensorflow, webgl, webgpu\)/);
  assert.equal(parseBackendName('auto'), 'auto');
  for (const name of BACKEND_NAMES) assert.equal(parseBackendName(name), name);
});

test('a backend that cannot run here is an error naming it and why', async () => {
  await assert.rejects(useBackend('webgl'), /backend 'webgl' is not available: webgl needs a browser/);
});

test('auto picks an available backend and says which', async () => {
  const choice = await useBackend('auto');
  assert.ok(['native', 'tensorflow', 'wasm'].includes(choice.name), choice.name);
  assert.match(choice.message, new RegExp(`backend: ${choice.name}, the fastest available`));
  assert.equal(tf.getBackend(), choice.name);
});
