// Tests of the training config module (src/train/config.ts): the run config.json files in training/ read back
// unchanged, and every kind of damage is a FileFormatError naming the file and the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileFormatError } from '../../src/errors.js';
import { parseTrainConfig, TRAIN_DEFAULTS, type TrainConfig } from '../../src/train/config.js';
import { REPO } from '../data/paths.js';

const FILE = '/runs/x/config.json';

/** A config as `hourglass train` writes it, with every optional field present. */
const FULL: TrainConfig = {
  model: { stacks: 2, features: 128, modules: 1, joints: 14, inputSize: 128, depth: 4 },
  train: [{ format: 'lspet', root: '../shared/data/lspet', images: '1-6000' }, { format: 'custom', file: 'mine.json' }],
  val: { format: 'lspet', root: '../shared/data/lspet', images: '6001-7000' },
  batchSize: 16, epochs: 40,
  schedule: { kind: 'plateau', base: 5e-4, patience: 6, factor: 0.2, minLr: 5e-7 },
  sigma: 1, seed: 1, augment: true, augmentation: { scaleClamp: 0.32 }, flipTest: true, workers: 1, logEvery: 20,
  checkpointMinutes: 5, maxImages: null, backend: 'native', precision: 'bf16',
  init: { from: '/models/lsp14.ckpt', freshHeads: false }, warmupSteps: 300, keepEpochs: true, skipBadImages: false,
};

/** FULL with one field replaced (or removed, for `undefined`) at a dotted path such as `schedule.base`. */
function damaged(path: string, value: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(FULL)) as Record<string, unknown>;
  const keys = path.split('.');
  let at: Record<string, unknown> = copy;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  const last = keys[keys.length - 1];
  if (value === undefined) delete at[last];
  else at[last] = value;
  return copy;
}

test('config.json files of the training runs kept in training/ read back as they are', () => {
  const dir = join(REPO, 'training');
  const files = existsSync(dir) ? readdirSync(dir).map((r) => join(dir, r, 'config.json')).filter((f) => existsSync(f)) : [];
  assert.ok(files.length >= 5, `expected the runs of training/, found ${files.length} config.json files`);
  for (const file of files) {
    const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(parseTrainConfig(json, file), json, file);
  }
  assert.deepEqual(parseTrainConfig(JSON.parse(JSON.stringify(FULL)), FILE), FULL);
  const steps = { ...FULL, schedule: { kind: 'steps', base: 2.5e-4, dropEpochs: [30, 38], factor: TRAIN_DEFAULTS.lrFactor } };
  assert.deepEqual(parseTrainConfig(steps, FILE), steps);
});

test('a damaged config.json is an error naming the file and the field', () => {
  const cases: [unknown, string][] = [
    [null, 'the run config must be an object, got null'],
    [[FULL], 'the run config must be an object'],
    [damaged('batchSize', '16'), 'batchSize must be an integer >= 1, got "16"'],
    [damaged('epochs', undefined), 'epochs must be an integer >= 1, got nothing'],
    [damaged('epoch', 3), 'unknown field epoch (known: model, train, val'],
    [damaged('model.stacks', 0), 'model: config.stacks must be an integer'],
    [damaged('model.depth', undefined), 'model.depth must be an integer, got nothing'],
    [damaged('model.layers', 3), "model: unknown config key 'layers'"],
    [damaged('train', []), 'train must be a non-empty list of data sources, got []'],
    [damaged('train', [{ format: 'lspet', root: 'a' }, { format: 'custom' }]), 'train[1].file must be a non-empty string, got nothing'],
    [damaged('val.format', 'png'), 'val.format must be one of lsp, lspet, mpii, flic, h5, coco, custom, got "png"'],
    [damaged('val.images', 7), 'val.images must be a range such as "1-6000" or a list of record numbers, got 7'],
    [damaged('schedule.kind', 'cosine'), 'schedule.kind must be "steps" or "plateau", got "cosine"'],
    [damaged('schedule.base', -1), 'schedule.base must be a number > 0, got -1'],
    [damaged('schedule.patience', 1.5), 'schedule.patience must be an integer >= 1, got 1.5'],
    [damaged('schedule', { kind: 'steps', base: 1e-4, factor: 0.2, dropEpochs: [3, 0] }), 'schedule.dropEpochs[1] must be an integer >= 1, got 0'],
    [damaged('schedule', { kind: 'steps', base: 1e-4, factor: 0.2, dropEpochs: [], patience: 2 }), 'unknown field schedule.patience'],
    [damaged('sigma', 0), 'sigma must be a number > 0, got 0'],
    [damaged('augment', 'yes'), 'augment must be true or false, got "yes"'],
    [damaged('augmentation', { scaleClamp: '0.3' }), 'augmentation.scaleClamp must be a number, got "0.3"'],
    [damaged('maxImages', 0), 'maxImages must be an integer >= 1, got 0'],
    [damaged('backend', ''), 'backend must be a non-empty string, got ""'],
    [damaged('precision', 'fp16'), 'precision must be fp32 or bf16, got "fp16"'],
    [damaged('init.freshHeads', 1), 'init.freshHeads must be true or false, got 1'],
    [damaged('warmupSteps', -3), 'warmupSteps must be an integer >= 0, got -3'],
    [damaged('keepEpochs', null), 'keepEpochs must be true or false, got null'],
  ];
  for (const [value, message] of cases) {
    assert.throws(() => parseTrainConfig(value, FILE), (err: unknown) => {
      assert.ok(err instanceof FileFormatError, `${message}: ${String(err)}`);
      assert.equal(err.file, FILE);
      assert.ok(err.message.startsWith(`${FILE}: ${message}`), `expected '${FILE}: ${message}...', got '${err.message}'`);
      return true;
    });
  }
});
