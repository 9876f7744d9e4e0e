// Weight averaging (src/model/average.ts): the mean of every stored tensor, batch-norm statistics included; the
// first file's config and skeleton; checkpoints of different networks, joints or tensors refused, naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { averageCheckpoints } from '../../src/model/average.js';
import { readCheckpoint, saveCheckpoint, saveModel } from '../../src/model/checkpoint.js';
import { HourglassModel } from '../../src/model/model.js';
import type { HourglassConfig } from '../../src/model/config.js';
import { LSP14 } from '../../src/data/skeletons/lsp.js';
import { tf } from '../../src/tf.js';
import { CheckpointMismatchError, FileFormatError, InvalidArgumentError } from '../../src/errors.js';
import { useCpu } from '../helpers.js';

const NET = { stacks: 1, features: 8, joints: 14, inputSize: 64, depth: 2 };

async function snapshot(dir: string, name: string, seed: number, net: Partial<HourglassConfig> = NET, meta: Record<string, unknown> = { skeleton: 'lsp14' }): Promise<string> {
  const file = join(dir, name);
  const model = HourglassModel.create(net, seed);
  // Fresh networks share their batch-norm statistics (0 and 1): give each its own, so that they are averaged too.
  for (const spec of model.params.specs) {
    if (/running/.test(spec.name)) model.params.update(spec.name, tf.randomUniform([...spec.shape], 0.5, 1.5, 'float32', seed));
  }
  await saveModel(file, model, { meta });
  model.dispose();
  return file;
}

test('averageCheckpoints gives the element-wise mean of every weight and statistic, with the first file\'s config and skeleton', async () => {
  await useCpu();
  const dir = mkdtempSync(join(tmpdir(), 'hg-average-'));
  const files = [await snapshot(dir, 'a.ckpt', 1), await snapshot(dir, 'b.ckpt', 2), await snapshot(dir, 'c.ckpt', 3)];
  const inputs = files.map(readCheckpoint);
  const avg = averageCheckpoints(files);
  assert.deepEqual(avg.config, inputs[0].config);
  assert.deepEqual(avg.meta, { skeleton: 'lsp14', averageOf: files });
  assert.equal(avg.state.size, 0);
  assert.deepEqual([...avg.weights.keys()].sort(), [...inputs[0].weights.keys()].sort());
  let statistics = 0;
  let differing = avg.weights.size;
  for (const [name, t] of avg.weights) {
    if (/running/.test(name)) statistics++;
    const parts = inputs.map((c) => c.weights.get(name)!.data);
    assert.deepEqual(t.shape, inputs[0].weights.get(name)!.shape);
    for (let i = 0; i < t.data.length; i++) {
      const expected = (parts[0][i] + parts[1][i] + parts[2][i]) / 3;
      assert.ok(Math.abs(t.data[i] - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `${name}[${i}]: ${t.data[i]} vs ${expected}`);
    }
    // Where the snapshots differ (all but the batch-norm scales and shifts, 1 and 0 in every fresh network), the mean is neither.
    if (Array.from(parts[0]).some((v, i) => v !== parts[1][i])) assert.notDeepEqual(Array.from(t.data), Array.from(parts[0]), name);
    else differing--;
  }
  assert.ok(statistics > 0, 'batch-norm statistics are among the averaged tensors');
  assert.ok(differing > avg.weights.size / 2, `${differing} of ${avg.weights.size} tensors differ between the snapshots`);
});

test('averageCheckpoints refuses fewer than two files, other networks, other joints and other tensors, naming the file', async () => {
  await useCpu();
  const dir = mkdtempSync(join(tmpdir(), 'hg-average-'));
  const a = await snapshot(dir, 'a.ckpt', 1);
  const wider = await snapshot(dir, 'wider.ckpt', 2, { ...NET, features: 16 });
  const other = await snapshot(dir, 'other.ckpt', 3, NET, { skeleton: { ...LSP14, id: 'mine', joints: LSP14.joints.map((j) => `my_${j}`) } });
  // Same network, one tensor missing.
  const full = readCheckpoint(a);
  const partial = join(dir, 'partial.ckpt');
  const dropped = [...full.weights.keys()][5];
  const kept = new Map([...full.weights].filter(([name]) => name !== dropped).map(([name, t]) => [name, tf.tensor(t.data, [...t.shape])]));
  await saveCheckpoint(partial, { config: full.config, weights: kept, meta: full.meta });
  assert.throws(() => averageCheckpoints([a]), (e: unknown) => e instanceof InvalidArgumentError && /at least two checkpoints, got 1/.test(e.message));
  assert.throws(() => averageCheckpoints([a, wider]), (e: unknown) => e instanceof CheckpointMismatchError && /wider\.ckpt: network .*"features":16.* differs from .*a\.ckpt/.test(e.message));
  assert.throws(() => averageCheckpoints([a, other]), (e: unknown) => e instanceof CheckpointMismatchError && /other\.ckpt: joints \["my_.* differs from .*a\.ckpt's \["right_ankle/.test(e.message));
  assert.throws(() => averageCheckpoints([a, partial]), (e: unknown) => e instanceof CheckpointMismatchError && e.message.includes(`partial.ckpt: tensor ${dropped} is missing`));
  assert.throws(() => averageCheckpoints([partial, a]), (e: unknown) => e instanceof CheckpointMismatchError && e.message.includes(`a.ckpt: tensor ${dropped} is not in`));
  assert.throws(() => averageCheckpoints([a, join(dir, 'absent.ckpt')]), (e: unknown) => e instanceof FileFormatError && /absent\.ckpt: checkpoint file not found/.test(e.message));
});
