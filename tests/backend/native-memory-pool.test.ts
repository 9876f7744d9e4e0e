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

test('a short view of a pooled array pins it; a free array seen again in a tensor leaves its free list', () => {
  const pool = new MemoryPool();
  const parent = pool.alloc(N);
  pool.registered(parent);
  pool.registered(parent.subarray(0, 16)); // a slice of 16 floats shares the parent's storage
  pool.released(parent);
  assert.notEqual(pool.alloc(N), parent, 'the view still holds it');
  const freed = pool.alloc(N + 16);
  pool.registered(freed);
  pool.released(freed);
  pool.registered(freed); // wrapped again after its tensor was disposed
  assert.notEqual(pool.alloc(N + 16), freed, 'never handed out while a tensor holds it');
});

test('the free lists stay under a fixed byte cap, dropping what was released longest ago', () => {
  const pool = new MemoryPool(N * 4, false);
  const [a, b] = [pool.alloc(N), pool.alloc(N)];
  for (const x of [a, b]) {
    pool.registered(x);
    pool.released(x);
  }
  assert.equal(pool.alloc(N), b, 'the latest release is kept');
  assert.notEqual(pool.alloc(N), a, 'the earlier one was dropped to stay under the cap');
  const huge = pool.alloc(2 * N);
  pool.registered(huge);
  pool.released(huge);
  assert.notEqual(pool.alloc(2 * N), huge, 'an array larger than the whole cap is never kept');
});

test('over the cap, the lengths released longest ago go first (a workload whose sizes change)', () => {
  const pool = new MemoryPool(3 * N * 4, false);
  const lengths = [N, N + 16, N + 32, N + 48, N + 64];
  const arrays = lengths.map((l) => pool.alloc(l));
  for (const x of arrays) {
    pool.registered(x);
    pool.released(x);
  }
  // Cap: about three arrays; the last two or three released are kept, the first two are gone.
  assert.notEqual(pool.alloc(lengths[0]), arrays[0]);
  assert.notEqual(pool.alloc(lengths[1]), arrays[1]);
  assert.equal(pool.alloc(lengths[3]), arrays[3]);
  assert.equal(pool.alloc(lengths[4]), arrays[4]);
});

test('a list emptied by alloc leaves nothing to evict: releases over the cap still work', () => {
  const pool = new MemoryPool(2 * N * 4, false);
  const a = pool.alloc(N);
  pool.registered(a);
  pool.released(a);
  assert.equal(pool.alloc(N), a);
  const [b, c] = [pool.alloc(N + 16), pool.alloc(N + 32)];
  for (const x of [b, c]) {
    pool.registered(x);
    pool.released(x); // c is over the cap with b: b goes
  }
  assert.equal(pool.alloc(N + 32), c);
  assert.notEqual(pool.alloc(N + 16), b);
});

test('an adaptive cap rises to the most bytes live at once: a step\'s arrays all come back for the next step', () => {
  const pool = new MemoryPool(N * 4);
  assert.equal(pool.capBytes, N * 4);
  const step = () => [pool.alloc(N), pool.alloc(N + 16), pool.alloc(N + 32)];
  const first = step();
  for (const x of first) pool.registered(x);
  assert.equal(pool.capBytes, (3 * N + 48) * 4, 'three arrays were live at once');
  for (const x of first) pool.released(x);
  const second = step();
  for (const [i, x] of second.entries()) assert.equal(x, first[i], 'all three kept, though the base cap holds one');
  // Arrays read out (pinned) leave the count: they never come back, so they do not raise the cap.
  const readOut = new MemoryPool(N * 4);
  for (let i = 0; i < 3; i++) {
    const a = readOut.alloc(N);
    readOut.registered(a);
    readOut.exposed(a);
  }
  assert.equal(readOut.capBytes, N * 4);
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
