// Tests of reading a run's position back from a checkpoint's metadata (src/train/position.ts): a position as the
// trainer writes it comes back equal, and damage is a FileFormatError naming the file and the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FileFormatError } from '../../src/errors.js';
import { parseRunPosition, type RunPosition } from '../../src/train/position.js';

const FILE = '/runs/x/last.ckpt';

const POSITION: RunPosition = {
  epoch: 3, stepInEpoch: 120, globalStep: 1530, imagesSeen: 24480,
  schedule: { lr: 1e-4, best: 61.2, badEpochs: 2 },
  bestMetric: 61.2, bestEpoch: 3, elapsed: 5123.5,
};

function withField(path: string, value: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(POSITION)) as Record<string, unknown>;
  const [head, tail] = path.split('.') as [string, string | undefined];
  const at = tail === undefined ? copy : (copy[head] as Record<string, unknown>);
  const key = tail ?? head;
  if (value === undefined) delete at[key];
  else at[key] = value;
  return copy;
}

test('a position as the trainer writes it reads back equal; a fresh run\'s nulls stay null', () => {
  assert.deepEqual(parseRunPosition(JSON.parse(JSON.stringify(POSITION)), FILE), POSITION);
  const fresh = { ...POSITION, schedule: { lr: 2.5e-4, best: null, badEpochs: 0 }, bestMetric: null, bestEpoch: null };
  assert.deepEqual(parseRunPosition(fresh, FILE), fresh);
});

test('a damaged position is an error naming the file and the field', () => {
  const cases: [unknown, string][] = [
    [undefined, 'metadata position.epoch must be an integer >= 0, got undefined'],
    [withField('stepInEpoch', -1), 'metadata position.stepInEpoch must be an integer >= 0, got -1'],
    [withField('imagesSeen', '24480'), 'metadata position.imagesSeen must be an integer >= 0, got "24480"'],
    [withField('schedule', undefined), 'metadata position.schedule is missing or has no learning rate'],
    [withField('schedule.lr', 'fast'), 'metadata position.schedule is missing or has no learning rate'],
    [withField('schedule.best', 'x'), 'metadata position.schedule.best must be a number or null'],
    [withField('schedule.badEpochs', 1.5), 'metadata position.schedule.badEpochs must be an integer >= 0, got 1.5'],
    [withField('bestMetric', 'n/a'), 'metadata position.bestMetric must be a number or null'],
  ];
  for (const [value, message] of cases) {
    assert.throws(() => parseRunPosition(value, FILE), (err: unknown) => {
      assert.ok(err instanceof FileFormatError, `${message}: ${String(err)}`);
      assert.equal(err.message, `${FILE}: ${message}`);
      return true;
    });
  }
});
