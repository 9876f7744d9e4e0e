// `hourglass export` through the CLI entry point: files written, JSON output, and exit code 2 with a clear line
// (and nothing written) for a bad format, a missing --model, and a missing or corrupt checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { captureIo as capture } from './capture.js';
import { HourglassModel } from '../../src/model/model.js';
import { loadModel, readCheckpoint, saveModel } from '../../src/model/checkpoint.js';
import { tf } from '../../src/tf.js';
import { predictionError } from '../model/random-bn.js';
import { useCpu } from '../helpers.js';

async function tinyCheckpoint(meta?: Record<string, unknown>): Promise<{ dir: string; file: string }> {
  await useCpu();
  const dir = mkdtempSync(join(tmpdir(), 'hg-export-cli-'));
  const file = join(dir, 'tiny.ckpt');
  const model = HourglassModel.create({ stacks: 2, features: 8, joints: 14, inputSize: 64, depth: 2 }, 1);
  await saveModel(file, model, meta ? { meta } : {});
  model.dispose();
  return { dir, file };
}

test('export --format tfjs writes model.json, weights.bin and hourglass.json and says where', async () => {
  const { dir, file } = await tinyCheckpoint({ skeleton: 'lsp14' });
  const out = join(dir, 'web');
  const io = capture();
  assert.equal(await main(['export', '--model', file, '--format', 'tfjs', '--out', out], io), 0, io.errors.join('\n'));
  assert.deepEqual(readdirSync(out).sort(), ['hourglass.json', 'model.json', 'weights.bin']);
  const text = io.lines.join('\n');
  assert.match(text, /2 stack\(s\), 8 features, 14 joints, input 64x64/);
  assert.match(text, /model\.json/);
  assert.match(text, /\[N, 16, 16, 14\]/);
  const info = JSON.parse(readFileSync(join(out, 'hourglass.json'), 'utf8')) as { skeleton?: { id: string; joints: string[] } };
  assert.equal(info.skeleton?.id, 'lsp14');
  assert.equal(info.skeleton?.joints.length, 14);
});

test('export --json prints { files, bytes, dir }; --out defaults to <checkpoint name>-tfjs in the current folder', async () => {
  const { dir, file } = await tinyCheckpoint();
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const io = capture();
    assert.equal(await main(['export', '--model', file, '--format', 'tfjs', '--json'], io), 0, io.errors.join('\n'));
    assert.equal(io.lines.length, 1);
    const r = JSON.parse(io.lines[0]) as { files: string[]; bytes: number; dir: string };
    assert.equal(r.dir, join(process.cwd(), 'tiny-tfjs'));
    assert.deepEqual(r.files.map((f) => f.slice(r.dir.length + 1)).sort(), ['hourglass.json', 'model.json', 'weights.bin']);
    assert.equal(r.bytes, r.files.reduce((n, f) => n + readFileSync(f).byteLength, 0));
    const info = JSON.parse(readFileSync(join(r.dir, 'hourglass.json'), 'utf8')) as Record<string, unknown>;
    assert.ok(!('skeleton' in info), 'no skeleton in the checkpoint: none written');
  } finally {
    process.chdir(cwd);
  }
});

test('export refuses bad input with exit code 2, one line naming the problem, and writes nothing', async () => {
  const { dir, file } = await tinyCheckpoint();
  const corrupt = join(dir, 'corrupt.ckpt');
  writeFileSync(corrupt, 'this is not a checkpoint');
  const truncated = join(dir, 'truncated.ckpt');
  writeFileSync(truncated, readFileSync(file).subarray(0, 2000));
  const out = join(dir, 'out');
  const cases: [string[], RegExp][] = [
    [['--model', file, '--format', 'onnx'], /unknown export format 'onnx' \(formats: tfjs, checkpoint\)/],
    [['--model', file], /export needs --format \(one of: tfjs, checkpoint\)/],
    [['--format', 'tfjs'], /export needs --model/],
    [['--model', join(dir, 'absent.ckpt'), '--format', 'tfjs'], /absent\.ckpt: checkpoint file not found/],
    [['--model', corrupt, '--format', 'tfjs'], /corrupt\.ckpt: not an hourglass checkpoint/],
    [['--model', truncated, '--format', 'tfjs'], /truncated\.ckpt: .*truncated/],
    [['--model', file, '--format', 'tfjs', 'extra'], /export takes no arguments/],
    [['--model', file, '--format', 'checkpoint', '--precision', 'int4'], /unknown precision 'int4' \(one of: float32, float16, int8\)/],
    [['--model', file, '--format', 'tfjs', '--precision', 'int8'], /--precision int8 is for --format checkpoint/],
    [['--model', join(dir, 'absent.ckpt'), '--format', 'checkpoint'], /absent\.ckpt: checkpoint file not found/],
  ];
  for (const [args, message] of cases) {
    const io = capture();
    assert.equal(await main(['export', ...args, '--out', out], io), 2, args.join(' '));
    assert.equal(io.errors.length, 1, args.join(' '));
    assert.match(io.errors[0], message);
    assert.ok(!existsSync(out), `${args.join(' ')}: nothing written`);
  }
  assert.deepEqual(readdirSync(dir).sort(), ['corrupt.ckpt', 'tiny.ckpt', 'truncated.ckpt']);
});

test('export --format checkpoint --precision float16 writes a weights-only checkpoint half the size that predicts the same', async () => {
  const { dir, file } = await tinyCheckpoint({ skeleton: 'lsp14', epoch: 3 });
  // Training state in the source (as in a run's last.ckpt) is left out of the export.
  const withState = join(dir, 'last.ckpt');
  const source = loadModel(file).model;
  await saveModel(withState, source, { state: new Map([['optimizer.ms.x', tf.ones([64])]]), meta: { skeleton: 'lsp14', epoch: 3 } });
  const out = join(dir, 'small.ckpt');
  const io = capture();
  assert.equal(await main(['export', '--model', withState, '--format', 'checkpoint', '--precision', 'float16', '--out', out, '--json'], io), 0, io.errors.join('\n'));
  const r = JSON.parse(io.lines[0]) as { files: string[]; bytes: number };
  assert.deepEqual(r.files, [out]);
  assert.equal(r.bytes, readFileSync(out).byteLength);
  assert.ok(r.bytes < 0.6 * readFileSync(file).byteLength, `${r.bytes} bytes vs ${readFileSync(file).byteLength}`);
  const { model, checkpoint } = loadModel(out);
  try {
    assert.equal(checkpoint.state.size, 0);
    assert.deepEqual(checkpoint.meta, { skeleton: 'lsp14', epoch: 3 });
    const err = await predictionError(source, model, [1, 64, 64, 3], 2);
    assert.ok(err > 0 && err < 5e-3, `relative error ${err}`);
  } finally {
    model.dispose();
    source.dispose();
  }
  // Without --out: <name>-<precision>.ckpt in the current folder.
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    assert.equal(await main(['export', '--model', file, '--format', 'checkpoint'], capture()), 0);
    assert.ok(existsSync(join(dir, 'tiny-float32.ckpt')));
  } finally {
    process.chdir(cwd);
  }
});

test('export --help lists its options', async () => {
  const io = capture();
  assert.equal(await main(['export', '--help'], io), 0);
  assert.match(io.lines.join('\n'), /--format/);
  assert.match(io.lines.join('\n'), /--out/);
});

test('export --average writes the mean of several checkpoints, in either format; mismatched or too few inputs are refused and nothing is written', async () => {
  await useCpu();
  const dir = mkdtempSync(join(tmpdir(), 'hg-export-average-'));
  const net = { stacks: 2, features: 8, joints: 14, inputSize: 64, depth: 2 };
  const files: string[] = [];
  for (const seed of [1, 2]) {
    const model = HourglassModel.create(net, seed);
    files.push(join(dir, `epoch-${seed}.ckpt`));
    await saveModel(files[files.length - 1], model, { meta: { skeleton: 'lsp14', epoch: seed } });
    model.dispose();
  }
  const out = join(dir, 'avg.ckpt');
  const io = capture();
  assert.equal(await main(['export', '--average', ...files, '--format', 'checkpoint', '--out', out], io), 0, io.errors.join('\n'));
  assert.match(io.lines.join('\n'), /exporting the average of 2 checkpoints: 2 stack\(s\)/);
  const [a, b, mean] = [...files, out].map((f) => readCheckpoint(f));
  assert.deepEqual(mean.meta, { skeleton: 'lsp14', averageOf: files });
  for (const [name, t] of mean.weights) {
    const [x, y] = [a.weights.get(name)!.data, b.weights.get(name)!.data];
    t.data.forEach((v, i) => assert.ok(Math.abs(v - (x[i] + y[i]) / 2) < 1e-6, `${name}[${i}]`));
  }
  const web = join(dir, 'avg-web');
  assert.equal(await main(['export', '--average', ...files, '--format', 'tfjs', '--out', web], capture()), 0);
  assert.ok(existsSync(join(web, 'model.json')));

  const wide = HourglassModel.create({ ...net, features: 16 }, 3);
  const wider = join(dir, 'wider.ckpt');
  await saveModel(wider, wide);
  wide.dispose();
  const refused = join(dir, 'refused.ckpt');
  const cases: [string[], RegExp][] = [
    [['--average', files[0]], /--average needs two or more checkpoints as arguments, got 1/],
    [['--average', ...files, '--model', files[0]], /either --model CKPT or --average/],
    [['--average', files[0], wider], /wider\.ckpt: network .* differs from .*epoch-1\.ckpt's/],
    [['--average', files[0], join(dir, 'absent.ckpt')], /absent\.ckpt: checkpoint file not found/],
  ];
  for (const [args, message] of cases) {
    const err = capture();
    assert.equal(await main(['export', ...args, '--format', 'checkpoint', '--out', refused], err), 2, args.join(' '));
    assert.equal(err.errors.length, 1, args.join(' '));
    assert.match(err.errors[0], message);
    assert.ok(!existsSync(refused), `${args.join(' ')}: nothing written`);
  }
});

test('export --format checkpoint --precision int8 writes a checkpoint well under half the size (float16: ~0.55) that predicts nearly the same', async () => {
  const { dir, file } = await tinyCheckpoint({ skeleton: 'lsp14' });
  const out = join(dir, 'int8.ckpt');
  const io = capture();
  assert.equal(await main(['export', '--model', file, '--format', 'checkpoint', '--precision', 'int8', '--out', out], io), 0, io.errors.join('\n'));
  assert.match(io.lines.join('\n'), /int8\.ckpt \(.*, int8\)/);
  const full = readFileSync(file).byteLength;
  assert.ok(readFileSync(out).byteLength < 0.4 * full, `${readFileSync(out).byteLength} bytes vs ${full}`);
  const source = loadModel(file).model;
  const { model } = loadModel(out);
  try {
    const err = await predictionError(source, model, [1, 64, 64, 3], 3);
    assert.ok(err > 0 && err < 5e-2, `relative error ${err}`);
  } finally {
    model.dispose();
    source.dispose();
  }
});
