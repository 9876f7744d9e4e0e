// `hourglass eval` with given predictions: exact scores on the committed MPII fixture, and the published MPII
// table from the authors' predictions when the real data are present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import h5wasm from 'h5wasm/node';
import { main } from '../../src/cli/main.js';
import { captureIo as capture } from './capture.js';
import { readDataset } from '../../src/data/readers/index.js';
import { DATA, FIXTURES } from '../data/paths.js';
import { LSP14 } from '../../src/data/skeletons/lsp.js';
import { DEFAULT_MODEL_PATH } from '../../src/api/estimator.js';

/** Writes the fixture's ground truth (1-based, as the original files) as predictions, moving joint 0 of record 1 by `shift` px. */
async function writePredictions(shift: number): Promise<string> {
  const ds = await readDataset({ format: 'mpii', root: join(FIXTURES, 'mpii') });
  await h5wasm.ready;
  const file = join(mkdtempSync(join(tmpdir(), 'hg-eval-')), 'preds.h5');
  const data = new Float64Array(ds.samples.length * 16 * 2);
  ds.samples.forEach((s, i) => s.joints.forEach((v, j) => (data[i * 32 + j] = v + 1)));
  data[0] += shift;
  const f = new h5wasm.File(file, 'w');
  f.create_dataset({ name: 'preds', data, shape: [ds.samples.length, 16, 2] });
  f.close();
  return file;
}

/** A 1-stack, 8-feature, 32-px LSP-14 checkpoint (random weights), in a new temporary folder; absolute path. */
async function tinyCheckpoint(): Promise<string> {
  const { HourglassModel } = await import('../../src/model/model.js');
  const { saveModel } = await import('../../src/model/checkpoint.js');
  const { useCpu } = await import('../helpers.js');
  await useCpu();
  const model = HourglassModel.create({ stacks: 1, features: 8, joints: 14, inputSize: 32, depth: 3 });
  const file = join(mkdtempSync(join(tmpdir(), 'hg-eval-')), 'tiny.ckpt');
  await saveModel(file, model);
  model.dispose();
  return file;
}

test('eval --predictions scores the fixture exactly', async () => {
  const perfect = capture();
  const file = await writePredictions(0);
  assert.equal(await main(['eval', '--dataset', 'mpii', '--root', join(FIXTURES, 'mpii'), '--predictions', file, '--json'], perfect), 0);
  const r = JSON.parse(perfect.lines[0]) as { mean: number; protocol: string; perJoint: Record<string, number>; predictions: unknown };
  assert.equal(r.protocol, 'PCKh@0.5');
  assert.deepEqual(r.predictions, { file: resolve(file) });
  assert.equal(r.mean, 100);
  const off = capture();
  assert.equal(await main(['eval', '--dataset', 'mpii', '--root', join(FIXTURES, 'mpii'), '--predictions', await writePredictions(1000), '--json'], off), 0);
  const r2 = JSON.parse(off.lines[0]) as { perJoint: Record<string, number>; counts: Record<string, number> };
  // One right ankle of the fixture moved far away: that joint's PCKh drops by exactly one count.
  const n = r2.counts['right_ankle'];
  assert.equal(r2.perJoint['right_ankle'], (100 * (n - 1)) / n);
});

test('eval refuses --model with --predictions, and models or files of another skeleton', async () => {
  const io = capture();
  assert.equal(await main(['eval', '--dataset', 'mpii', '--root', join(FIXTURES, 'mpii'), '--model', 'x.ckpt', '--predictions', 'y.h5'], io), 2);
  assert.match(io.errors[0], /either --model or --predictions, not both/);
  const none = capture(); // no --model and no bundled model of MPII's 16 joints
  assert.equal(await main(['eval', '--dataset', 'mpii', '--root', join(FIXTURES, 'mpii'), '--backend', 'cpu'], none), 2);
  assert.match(none.errors.join('\n'), /no bundled model predicts the 16 joints of mpii \(mpii16\): give --model CKPT or --predictions FILE/);
  const mpii = capture(); // the bundled LSP-14 model by name cannot score MPII's 16 joints
  assert.equal(await main(['eval', '--dataset', 'mpii', '--root', join(FIXTURES, 'mpii'), '--model', 'lsp14', '--backend', 'cpu'], mpii), 2);
  assert.match(mpii.errors.join('\n'), /lsp14\.ckpt predicts 14 joints \(lsp14\), mpii has 16 \(mpii16\)/);
  const io2 = capture();
  assert.notEqual(await main(['eval', '--dataset', 'lspet', '--root', join(FIXTURES, 'lspet'), '--predictions', await writePredictions(0)], io2), 0);
  assert.match(io2.errors[0], /16 joints per record, lspet has 14/);
});

test('eval without --model scores the bundled model, per joint and as JSON', async () => {
  const io = capture();
  assert.equal(await main(['eval', '--dataset', 'lsp', '--root', join(FIXTURES, 'lspet'), '--json', '--no-flip-test'], io), 0);
  const r = JSON.parse(io.lines[0]) as { protocol: string; mean: number; perJoint: Record<string, number>; count: number; predictions: unknown };
  assert.equal(r.protocol, 'PCK@0.2');
  assert.deepEqual(r.predictions, { model: DEFAULT_MODEL_PATH, flipTest: false, scales: [1], subpixel: 'taylor' });
  assert.deepEqual(Object.keys(r.perJoint).sort(), [...LSP14.joints].sort());
  assert.ok(r.count > 100 && r.mean >= 0 && r.mean <= 100);
});

test('eval --scales: [1] is the plain evaluation; other lists run the multi-scale test; bad lists are refused', async () => {
  const file = await tinyCheckpoint(); // small enough for the cpu backend
  const run = async (...extra: string[]) => {
    const io = capture();
    const code = await main(['eval', '--dataset', 'lsp', '--root', join(FIXTURES, 'lspet'), '--images', '1-6', '--json', '--backend', 'cpu', '--model', file, ...extra], io);
    return { code, io, report: code === 0 ? JSON.parse(io.lines[0]) as { mean: number; count: number; perJoint: Record<string, number>; predictions: unknown } : null };
  };
  const plain = await run();
  assert.deepEqual(plain.report?.predictions, { model: file, flipTest: true, scales: [1], subpixel: 'taylor' });
  assert.deepEqual((await run('--scales', '1')).report, plain.report);
  const multi = await run('--scales', '0.8,0.9,1,1.1,1.2');
  assert.equal(multi.code, 0);
  assert.deepEqual(multi.report?.predictions, { model: file, flipTest: true, scales: [0.8, 0.9, 1, 1.1, 1.2], subpixel: 'taylor' });
  assert.equal(multi.report?.count, plain.report?.count);
  assert.ok((multi.report?.mean ?? -1) >= 0);
  const text = capture(); // the table says how the predictions were made
  assert.equal(await main(['eval', '--dataset', 'lsp', '--root', join(FIXTURES, 'lspet'), '--images', '1-2', '--backend', 'cpu', '--model', file, '--no-flip-test', '--scales', '1,1.2'], text), 0);
  assert.ok(text.lines.join('\n').includes(`predictions: ${file}, no flip test, crop scales 1, 1.2`), text.lines.join('\n'));
  for (const [scales, message] of [['0.9,1.1', /must include 1/], ['1,x', /--scales: 'x' is not a number/], ['1,9', /from 0.25 to 4, got 9/]] as const) {
    const bad = await run('--scales', scales);
    assert.equal(bad.code, 2, scales);
    assert.match(bad.io.errors.join('\n'), message);
  }
  const io = capture();
  assert.equal(await main(['eval', '--dataset', 'lspet', '--root', join(FIXTURES, 'lspet'), '--predictions', 'p.h5', '--scales', '1,1.1'], io), 2);
  assert.match(io.errors.join('\n'), /--scales, --no-flip-test and --subpixel apply when a model runs, not to --predictions/);
});

test('eval --subpixel quarter decodes with the paper\'s rule and says so; an unknown rule is refused', async () => {
  const file = await tinyCheckpoint();
  const run = async (...extra: string[]) => {
    const io = capture();
    const code = await main(['eval', '--dataset', 'lsp', '--root', join(FIXTURES, 'lspet'), '--images', '1-4', '--backend', 'cpu', '--model', file, ...extra], io);
    return { code, io };
  };
  const quarter = await run('--json', '--subpixel', 'quarter');
  assert.equal(quarter.code, 0);
  const r = JSON.parse(quarter.io.lines[0]) as { predictions: unknown; count: number };
  assert.deepEqual(r.predictions, { model: file, flipTest: true, scales: [1], subpixel: 'quarter' });
  const text = await run('--subpixel', 'quarter');
  assert.ok(text.io.lines.join('\n').includes("one crop scale, the paper's quarter-pixel decoding"), text.io.lines.join('\n'));
  const bad = await run('--subpixel', 'cubic');
  assert.equal(bad.code, 2);
  assert.match(bad.io.errors.join('\n'), /--subpixel.*one of taylor, quarter/);
});

const REAL = join(DATA, 'mpii');
test('the authors\' MPII predictions reproduce the published PCKh table', { skip: existsSync(join(REAL, 'valid-ours.h5')) ? false : `real data not found at ${REAL}` }, async () => {
  const io = capture();
  assert.equal(await main(['eval', '--dataset', 'mpii', '--root', REAL, '--predictions', join(REAL, 'valid-ours.h5'), '--json'], io), 0);
  const r = JSON.parse(io.lines[0]) as { mean: number; perGroup: Record<string, number> };
  const published = { head: 95.94, shoulder: 94.68, elbow: 88.53, wrist: 83.38, hip: 87.48, knee: 83.09, ankle: 79.05 };
  for (const [group, value] of Object.entries(published)) assert.equal(r.perGroup[group].toFixed(2), value.toFixed(2), group);
  assert.equal(r.mean.toFixed(2), '88.04');
});

test('eval --model runs a checkpoint over a dataset (flip test) and counts every labelled joint', async () => {
  const file = await tinyCheckpoint();
  const io = capture();
  assert.equal(await main(['eval', '--dataset', 'lspet', '--root', join(FIXTURES, 'lspet'), '--images', '1-6', '--model', file, '--backend', 'cpu', '--json'], io), 0);
  const r = JSON.parse(io.lines[0]) as { protocol: string; samples: number; count: number; mean: number };
  const ds = await readDataset({ format: 'lspet', root: join(FIXTURES, 'lspet'), images: '1-6' });
  const labelled = ds.samples.filter((s) => s.visible[8] && s.visible[3]).reduce((n, s) => n + s.visible.reduce((a, b) => a + b, 0), 0);
  assert.equal(r.protocol, 'PCK@0.2');
  assert.equal(r.samples, 6);
  assert.equal(r.count, labelled);
  assert.ok(r.mean >= 0 && r.mean <= 100);
});
