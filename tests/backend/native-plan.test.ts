// The native inference plan's recording (src/backend/native/plan.ts) without the addon: the ops, their fusions,
// order, layouts and buffers for a few configurations equal the listings in tests/fixtures/native-plan/, which the
// plan builder produced when it still walked its own copy of the topology (before issue 19). Same listing, same
// plan: same op count, same memory, same speed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../src/tf.js';
import { REPO } from '../data/paths.js';
import { LISTING_CASES, planListing } from './plan-listing.js';

test('recorded native plans equal the listings of the builder before the shared network definition', async () => {
  const previous = tf.getBackend() as string | undefined;
  await tf.setBackend('cpu');
  try {
    for (const c of LISTING_CASES) {
      const expected = readFileSync(join(REPO, 'tests', 'fixtures', 'native-plan', `${c.name}.txt`), 'utf8').split('\n');
      const actual = planListing(c).split('\n');
      const first = Array.from({ length: Math.max(actual.length, expected.length) }, (_, i) => i).find((i) => actual[i] !== expected[i]) ?? -1;
      assert.ok(
        first < 0,
        `${c.name}: line ${first + 1} is '${actual[first]}', expected '${expected[first]}' (${actual.length} lines, expected ${expected.length})`,
      );
    }
  } finally {
    if (previous) await tf.setBackend(previous);
  }
});
