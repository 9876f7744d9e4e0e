// `hourglass train` argument handling: bad combinations and bad data are one clear line and a non-zero exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HourglassModel } from '../../src/model/model.js';
import { saveModel } from '../../src/model/checkpoint.js';
import { TRAIN_DEFAULTS, type TrainConfig } from '../../src/train/config.js';
import { useCpu } from '../helpers.js';
import { main } from '../../src/cli/main.js';
import { captureIo as capture } from './capture.js';
import { parseSourceSpec, validationOptions } from '../../src/cli/datasets.js';
import { parseAugmentation, recordedPath } from '../../src/cli/commands/train.js';
import { FIXTURES } from '../data/paths.js';

test('train refuses bad command lines with one clear line', async () => {
  const cases: [string[], RegExp][] = [
    [['train', '--backend', 'cpu'], /train needs --dataset and --root/],
    [['train', '--dataset', 'lsp', '--root', '/nonexistent/lsp', '--backend', 'cpu'], /\/nonexistent\/lsp/],
    [['train', '--dataset', 'nope'], /option --dataset: 'nope' is not one of lsp, lspet, flic, mpii, coco, custom/],
    [['train', '--resume', 'runs/x', '--stacks', '4'], /with --resume only --epochs, --max-images, --workers, --backend, --precision, --keep-epochs, --skip-bad-images and the schedule \(--lr, --lr-drop, --lr-factor, --plateau\) may be given \(got --stacks\)/],
    [['train', '--resume', 'runs/x', '--lr-drop', '30,x'], /--lr-drop: 'x' is not an epoch number >= 1/],
    [['train', '--resume', '/nonexistent/run', '--backend', 'cpu'], /\/nonexistent\/run\/config\.json: run config not found/],
    [['train', '--dataset', 'lspet', '--root', join(FIXTURES, 'lspet'), '--lr-drop', '3', '--plateau', '2', '--backend', 'cpu'], /either --lr-drop or --plateau/],
    [['train', '--dataset', 'lspet', '--root', join(FIXTURES, 'lspet'), '--images', '1-99', '--backend', 'cpu'], /99/],
    [['train', '--dataset', 'lspet', '--root', join(FIXTURES, 'lspet'), '--augment', 'spin=3', '--backend', 'cpu'], /unknown augmentation option 'spin'/],
    [['train', '--dataset', 'lspet', '--root', join(FIXTURES, 'lspet'), '--augment', 'scaleClamp', '--backend', 'cpu'], /--augment: 'scaleClamp' is not key=number/],
    [['train', '--dataset', 'lspet', '--root', join(FIXTURES, 'lspet'), '--augment', 'flipProbability=2', '--backend', 'cpu'], /flipProbability must be in \[0, 1\], got 2/],
    [['train', '--dataset', 'lspet', '--root', join(FIXTURES, 'lspet'), '--augment', 'colourMin=0.9', '--no-augment', '--backend', 'cpu'], /either --augment or --no-augment/],
  ];
  for (const [argv, message] of cases) {
    const io = capture();
    assert.notEqual(await main(argv, io), 0, argv.join(' '));
    const last = io.errors[io.errors.length - 1] ?? '';
    assert.match(last, message, argv.join(' '));
  }
  // A wrong --init is refused before the backend starts: its error is the only line.
  for (const init of ['lsp14-ensemble', '/nonexistent/x.ckpt']) {
    const io = capture();
    assert.equal(await main(['train', '--dataset', 'lspet', '--root', join(FIXTURES, 'lspet'), '--init', init, '--backend', 'cpu'], io), 2);
    assert.equal(io.errors.length, 1, io.errors.join('\n'));
    assert.match(io.errors[0], init === 'lsp14-ensemble' ? /bundled ensemble of lsp14, lsp14-256, not one network/ : /\/nonexistent\/x\.ckpt/);
  }
});

test('--resume names the file and the field of a damaged config.json, before any training', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hourglass-resume-config-'));
  try {
    const config = {
      model: { stacks: 1, features: 8, modules: 1, joints: 14, inputSize: 64, depth: 4 },
      train: [{ format: 'lspet', root: join(FIXTURES, 'lspet') }], val: null, batchSize: 2, epochs: 'forty',
      schedule: { kind: 'steps', base: 1e-3, dropEpochs: [], factor: 0.2 }, sigma: 1, seed: 1, augment: false, flipTest: false,
      workers: 1, logEvery: 1, checkpointMinutes: 5, maxImages: null, backend: 'cpu',
    };
    writeFileSync(join(dir, 'config.json'), `${JSON.stringify(config)}\n`);
    const io = capture();
    assert.equal(await main(['train', '--resume', dir, '--backend', 'cpu'], io), 2);
    assert.match(io.errors[io.errors.length - 1] ?? '', /epochs must be an integer >= 1, got "forty"/);
    assert.ok((io.errors[io.errors.length - 1] ?? '').includes(`error: ${join(dir, 'config.json')}: epochs`), io.errors.join('\n'));
    assert.deepEqual(readdirSync(dir), ['config.json'], 'nothing written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train --help gives the lr factor default and the flags --resume allows, from their one definition', async () => {
  const io = capture();
  assert.equal(await main(['help', 'train'], io), 0);
  const help = io.lines.join('\n');
  assert.match(help, new RegExp(`learning-rate drop factor \\(default ${TRAIN_DEFAULTS.lrFactor}\\)`));
  assert.match(help, /only --epochs, --max-images, --workers, --backend, --precision, --keep-epochs, --skip-bad-images and the schedule \(--lr, --lr-drop, --lr-factor, --plateau\) may change/);
});

test('--augment overrides are parsed into augmentation options', () => {
  assert.deepEqual(parseAugmentation('scaleClamp=0.32, colourMin=0.8,colourMax=1.2', false), { scaleClamp: 0.32, colourMin: 0.8, colourMax: 1.2 });
  assert.deepEqual(parseAugmentation('', false), {});
});

test('config.json records an --init path inside the working directory relative to it, any other absolute', () => {
  assert.equal(recordedPath('/work/repo/models/lsp14.ckpt', '/work/repo'), join('models', 'lsp14.ckpt'));
  assert.equal(recordedPath('/work/repo/training/run/..b/x.ckpt', '/work/repo'), join('training', 'run', '..b', 'x.ckpt'));
  assert.equal(recordedPath('/tmp/source.ckpt', '/work/repo'), '/tmp/source.ckpt');
  assert.equal(recordedPath('/work/other/x.ckpt', '/work/repo'), '/work/other/x.ckpt');
});

test('extra sources and validation splits', () => {
  assert.deepEqual(parseSourceSpec('lsp:../data/lsp:1-1000'), { format: 'lsp', root: '../data/lsp', images: '1-1000' });
  assert.deepEqual(parseSourceSpec('coco:/a/b.json'), { format: 'coco', file: '/a/b.json' });
  assert.throws(() => parseSourceSpec('lsp'), /is not FORMAT:PATH\[:RANGE\]/);
  assert.throws(() => parseSourceSpec('zzz:/x'), /unknown dataset 'zzz'/);
  assert.deepEqual(validationOptions({ format: 'flic', root: 'f' }), { format: 'flic', root: 'f', split: 'valid', images: undefined });
  assert.deepEqual(validationOptions({ format: 'lspet', root: 'l', images: '1-10' }, '11-12'), { format: 'lspet', root: 'l', images: '11-12' });
  assert.equal(validationOptions({ format: 'lspet', root: 'l' }), null);
});

test('train --init grows a checkpoint into a larger network, with the size it does not change taken from it; --warmup ramps the rate', async () => {
  await useCpu();
  const dir = mkdtempSync(join(tmpdir(), 'hg-init-'));
  const source = join(dir, 'source.ckpt');
  const small = HourglassModel.create({ stacks: 1, features: 8, joints: 14, inputSize: 64, depth: 4 }, 2);
  await saveModel(source, small, { meta: { skeleton: 'lsp14' } });
  small.dispose();
  const out = join(dir, 'run');
  const io = capture();
  const code = await main(['train', '--dataset', 'lspet', '--root', join(FIXTURES, 'lspet'), '--images', '1-8', '--no-val', '--init', source,
    '--stacks', '2', '--modules', '2', '--batch', '4', '--epochs', '1', '--warmup', '4', '--lr', '1e-3', '--log-every', '1', '--workers', '1',
    '--out', out, '--backend', 'cpu'], io);
  assert.equal(code, 0, io.errors.join('\n'));
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as TrainConfig;
  assert.deepEqual(config.model, { stacks: 2, features: 8, modules: 2, joints: 14, inputSize: 64, depth: 4 });
  assert.deepEqual(config.init, { from: source, freshHeads: false });
  assert.equal(config.warmupSteps, 4);
  const log = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; lr?: number; summary?: string });
  assert.equal(log[0].type, 'init');
  // Depth 4: per stack up, low1 and low3 at 4 levels, the bottom and the head's residual; 2 stacks.
  assert.match(log[0].summary ?? '', /^\d+ tensors copied; 28 new residual modules start as identities; 1 new stack\(s\) start as copies of stack 1$/);
  const rates = log.filter((r) => r.type === 'train').map((r) => r.lr);
  assert.deepEqual(rates, [0.25e-3, 0.5e-3]);
  // Refusals, before anything is written.
  const cases: [string[], RegExp][] = [
    [['--init', join(dir, 'absent.ckpt')], /absent\.ckpt: checkpoint file not found/],
    [['--init', source, '--features', '16'], /--init .*source\.ckpt: it has 8 features, this network 16/],
  ];
  for (const [args, message] of cases) {
    const target = join(dir, 'refused');
    const e = capture();
    assert.equal(await main(['train', '--dataset', 'lspet', '--root', join(FIXTURES, 'lspet'), '--images', '1-8', '--no-val', '--out', target, '--backend', 'cpu', ...args], e), 2, args.join(' '));
    assert.match(e.errors[e.errors.length - 1], message);
    assert.ok(!existsSync(join(target, 'config.json')), 'nothing written');
  }
});
