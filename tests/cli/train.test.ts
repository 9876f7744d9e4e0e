// `hourglass train` argument handling: bad combinations and bad data are one clear line and a non-zero exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { captureIo as capture } from './capture.js';
import { parseSourceSpec, validationOptions } from '../../src/cli/datasets.js';
import { parseAugmentation } from '../../src/cli/commands/train.js';
import { FIXTURES } from '../data/paths.js';

test('train refuses bad command lines with one clear line', async () => {
  const cases: [string[], RegExp][] = [
    [['train', '--backend', 'cpu'], /train needs --dataset and --root/],
    [['train', '--dataset', 'lsp', '--root', '/nonexistent/lsp', '--backend', 'cpu'], /\/nonexistent\/lsp/],
    [['train', '--dataset', 'nope'], /option --dataset: 'nope' is not one of lsp, lspet, flic, mpii, coco, custom/],
    [['train', '--resume', 'runs/x', '--stacks', '4'], /with --resume only --epochs, --max-images, --workers, --backend and the schedule \(--lr, --lr-drop, --lr-factor, --plateau\) may be given \(got --stacks\)/],
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
});

test('--augment overrides are parsed into augmentation options', () => {
  assert.deepEqual(parseAugmentation('scaleClamp=0.32, colourMin=0.8,colourMax=1.2', false), { scaleClamp: 0.32, colourMin: 0.8, colourMax: 1.2 });
  assert.deepEqual(parseAugmentation('', false), {});
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
