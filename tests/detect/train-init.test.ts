// Starting the person detector from a checkpoint (src/detect/train.ts initDetector): a pose model's first stack
// carries over (all but the heatmap output, which becomes the detector's 3 channels), a detector's weights are all
// copied, and a network that does not fit is refused naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HourglassModel } from '../../src/model/model.js';
import { saveModel } from '../../src/model/checkpoint.js';
import { CHANNELS } from '../../src/detect/codec.js';
import { initDetector } from '../../src/detect/train.js';
import { useCpu } from '../helpers.js';

const POSE = { stacks: 2, features: 8, modules: 1, joints: 14, inputSize: 32, depth: 2 };
const DETECTOR = { ...POSE, stacks: 1, joints: CHANNELS };

test('a detector starts from a pose model\'s first stack or from another detector; a wider network is refused', async () => {
  await useCpu();
  const dir = mkdtempSync(join(tmpdir(), 'hourglass-detinit-'));
  const pose = HourglassModel.create(POSE, 1);
  const other = HourglassModel.create(DETECTOR, 2);
  const detector = HourglassModel.create(DETECTOR, 3);
  const wide = HourglassModel.create({ ...DETECTOR, features: 16 }, 4);
  try {
    const posePath = join(dir, 'pose.ckpt');
    const otherPath = join(dir, 'detector.ckpt');
    await saveModel(posePath, pose);
    await saveModel(otherPath, other);
    const freshHead = Array.from(detector.params.get('stack0.head.out.weight').dataSync());
    const line = initDetector(detector, posePath);
    assert.match(line, /the first 1 stack\(s\) of a pose model \(2 stacks, 14 joints\)/);
    assert.match(line, /2 joint-dependent tensors start fresh/);
    const same = (a: HourglassModel, b: HourglassModel, name: string) => assert.deepEqual(
      Array.from(a.params.get(name).dataSync()), Array.from(b.params.get(name).dataSync()), name);
    same(detector, pose, 'stem.conv.weight');
    same(detector, pose, 'stack0.head.conv.weight');
    assert.deepEqual(Array.from(detector.params.get('stack0.head.out.weight').dataSync()), freshHead, 'the output layer keeps its initialisation');
    assert.match(initDetector(detector, otherPath), /a detector's weights, all copied/);
    same(detector, other, 'stack0.head.out.weight');
    assert.throws(() => initDetector(wide, posePath), /pose\.ckpt: it has 8 features, this network 16/);
  } finally {
    for (const m of [pose, other, detector, wide]) m.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
