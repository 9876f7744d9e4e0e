// The native backend's memory pool (src/backend/native/memory-pool.ts): a disposed tensor's storage is reused only
// when it was one tensor's own, unshared and never read out; and, end to end, arrays read out stay intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import type { Tensor4D } from '../../src/tf.js';
import { MemoryPool } from '../../src/backend/native/memory-pool.js';
import { SKIP_NATIVE, randomTensor, requireNative } from './native-parity.js';

const N = 1 << 16;

test('a released array is handed out again for the same length, not for another', () => {
  const pool = new MemoryPool();
  const a = pool.alloc(N);
  pool.registered(a);
  pool.released(a);
  assert.notEqual(pool.alloc(N + 1), a);
  assert.equal(pool.alloc(N), a);
  assert.notEqual(pool.alloc(N), a, 'handed out once only');
});

test('arrays read out, shared by two tensors, viewed, or small are never recycled', () => {
  const pool = new MemoryPool();
  const read = pool.alloc(N);
  pool.registered(read);
  pool.exposed(read);
  pool.released(read);
  const shared = pool.alloc(N);
  pool.registered(shared);
  pool.registered(shared);
  pool.released(shared);
  const viewed = pool.alloc(N);
  pool.registered(viewed);
  pool.registered(viewed.subarray(0, N / 2));
  pool.released(viewed);
  const small = pool.alloc(16);
  pool.registered(small);
  pool.released(small);
  const next = [pool.alloc(N), pool.alloc(N), pool.alloc(N)];
  for (const a of [read, shared, viewed]) assert.ok(!next.includes(a));
  assert.notEqual(pool.alloc(16), small);
});

test('the free lists stay under their byte cap', () => {
  const pool = new MemoryPool(N * 4);
  const [a, b] = [pool.alloc(N), pool.alloc(N)];
  for (const x of [a, b]) {
    pool.registered(x);
    pool.released(x);
  }
  assert.equal(pool.alloc(N), a);
  assert.notEqual(pool.alloc(N), b, 'the second release was over the cap');
});

test('native: values read with dataSync survive the tensor\'s disposal and later kernels', { skip: SKIP_NATIVE }, async () => {
  requireNative();
  await tf.setBackend('native');
  try {
    const x = randomTensor([4, 32, 32, 16], 1) as Tensor4D;
    const y = tf.relu(x);
    const values = y.dataSync();
    const copy = Float32Array.from(values);
    y.dispose();
    // Same-sized outputs: they would reuse y's storage if dataSync had not pinned it.
    const others = [tf.relu(tf.neg(x)), tf.relu(x), tf.abs(x)];
    assert.deepEqual(values, copy);
    tf.dispose([x, ...others]);
  } finally {
    await tf.setBackend('cpu');
  }
});
