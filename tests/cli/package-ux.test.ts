// What a new user meets first: --version, help <command>, the bundled names in an unknown-model error, doctor,
// a folder argument to predict (--recursive), and predict refusing to write over its input images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { captureIo as capture } from './capture.js';
import { FIXTURES, REPO } from '../data/paths.js';
import { tinyCheckpoint } from '../helpers.js';

const IMAGES = join(FIXTURES, 'lspet', 'images');


test('--version, -v and version print the package.json version', async () => {
  const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  for (const arg of ['--version', '-v', 'version']) {
    const io = capture();
    assert.equal(await main([arg], io), 0);
    assert.deepEqual(io.lines, [version]);
  }
});

test('help <command> prints that command\'s options; help of an unknown command is an error', async () => {
  const io = capture();
  assert.equal(await main(['help', 'predict'], io), 0);
  assert.match(io.lines.join('\n'), /^usage: hourglass predict/);
  assert.match(io.lines.join('\n'), /--recursive/);
  const top = capture();
  assert.equal(await main(['help'], top), 0);
  assert.match(top.lines.join('\n'), /doctor/);
  const bad = capture();
  assert.equal(await main(['help', 'nope'], bad), 2);
  assert.match(bad.errors.join('\n'), /unknown command 'nope' \(commands: .*predict.*doctor/);
});

test('an unknown model names the bundled models', async () => {
  const io = capture();
  assert.equal(await main(['predict', join(IMAGES, 'im00001.jpg'), '--model', 'nope', '--backend', 'cpu'], io), 2);
  assert.match(io.errors.join('\n'), /nope: checkpoint file not found, and not a bundled model's name \(lsp14, flic, lsp14-256, lsp14-ensemble\)/);
});

test('doctor lists every backend with whether it loads and why not', async () => {
  const io = capture();
  assert.equal(await main(['doctor', '--json'], io), 0);
  const report = JSON.parse(io.lines.join('\n')) as { auto: string; backends: { name: string; ok: boolean; reason: string }[] };
  assert.deepEqual(report.backends.map((b) => b.name).sort(), ['cpu', 'native', 'tensorflow', 'wasm', 'webgl', 'webgpu']);
  for (const b of report.backends) assert.equal(b.ok, b.reason === '', `${b.name}: ok ${b.ok}, reason '${b.reason}'`);
  assert.ok(report.backends.find((b) => b.name === 'cpu')?.ok);
  assert.match(report.backends.find((b) => b.name === 'webgl')?.reason ?? '', /needs a browser/);
  assert.equal(report.auto, report.backends.find((b) => b.ok)?.name);
  const text = capture();
  assert.equal(await main(['doctor'], text), 0);
  assert.match(text.lines.join('\n'), /webgl +no: webgl needs a browser/);
  assert.match(text.lines.join('\n'), /'auto' \(the default\) uses /);
});

test('predict FOLDER runs on the folder\'s images; --recursive adds its subfolders but not the output folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hg-folder-'));
  const model = await tinyCheckpoint(dir);
  const photos = join(dir, 'photos');
  mkdirSync(join(photos, 'more'), { recursive: true });
  copyFileSync(join(IMAGES, 'im00001.jpg'), join(photos, 'a.jpg'));
  copyFileSync(join(IMAGES, 'im00002.jpg'), join(photos, 'b.jpg'));
  copyFileSync(join(IMAGES, 'im00003.jpg'), join(photos, 'more', 'c.jpg'));
  copyFileSync(join(FIXTURES, 'lspet', 'joints.mat'), join(photos, 'notes.mat')); // not an image name: left out
  const flat = join(dir, 'flat');
  const io = capture();
  assert.equal(await main(['predict', photos, '--model', model, '--out', flat, '--backend', 'cpu', '--no-overlay'], io), 0, io.errors.join('\n'));
  assert.deepEqual(readdirSync(flat).sort(), ['a.json', 'b.json']);
  // results inside the folder itself, then again: the earlier overlays are not taken as inputs
  const inner = join(photos, 'poses');
  for (let run = 0; run < 2; run++) {
    const rec = capture();
    assert.equal(await main(['predict', photos, '--recursive', '--model', model, '--out', inner, '--backend', 'cpu'], rec), 0, rec.errors.join('\n'));
    assert.deepEqual(readdirSync(inner).sort(), ['a.json', 'a.png', 'b.json', 'b.png', 'c.json', 'c.png']);
  }
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  const none = capture();
  assert.equal(await main(['predict', empty, '--model', model, '--backend', 'cpu'], none), 2);
  assert.match(none.errors.join('\n'), /empty: a folder with no images .*--recursive/);
});

test('predict refuses to write a result over an input image, before writing anything', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hg-overwrite-'));
  const model = await tinyCheckpoint(dir);
  const photo = join(dir, 'photo.png');
  copyFileSync(join(IMAGES, 'im00001.jpg'), join(dir, 'source.jpg'));
  const { default: sharp } = await import('sharp');
  await sharp(join(dir, 'source.jpg')).png().toFile(photo);
  const before = readFileSync(photo);
  const io = capture();
  assert.equal(await main(['predict', photo, '--model', model, '--out', dir, '--backend', 'cpu'], io), 2);
  assert.match(io.errors.join('\n'), /photo\.png would overwrite the input image .*photo\.png; choose another --out/);
  assert.deepEqual(readFileSync(photo), before);
  assert.deepEqual(readdirSync(dir).sort(), ['photo.png', 'source.jpg', 'tiny.ckpt']);
  // --no-overlay writes only photo.json there: allowed
  const ok = capture();
  assert.equal(await main(['predict', photo, '--model', model, '--out', dir, '--backend', 'cpu', '--no-overlay'], ok), 0, ok.errors.join('\n'));
  assert.deepEqual(readFileSync(photo), before);
});
