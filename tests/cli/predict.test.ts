// `hourglass predict`: a JSON file and an overlay PNG per image, any image format, the samples when no image is
// given, and clear errors (bad --box, unreadable images) with the other images' results still written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { main } from '../../src/cli/main.js';
import { captureIo as capture } from './capture.js';
import { LSP14 } from '../../src/data/skeletons/lsp.js';
import { sampleImages } from '../../src/cli/commands/predict.js';
import { FIXTURES } from '../data/paths.js';
import { tinyCheckpoint } from '../helpers.js';

const IMAGES = join(FIXTURES, 'lspet', 'images');


interface ResultJson {
  image: string;
  imageSize: { width: number; height: number };
  box: { x: number; y: number; width: number; height: number };
  keypoints: { name: string; x: number; y: number; score: number }[];
  people: { box: ResultJson['box']; score: number; keypoints: ResultJson['keypoints'] }[];
}

test('predict writes a JSON result and an overlay PNG of the image size for each image; --json prints them all', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hg-predict-'));
  const model = await tinyCheckpoint(dir);
  const out = join(dir, 'out');
  const io = capture();
  const images = [join(IMAGES, 'im00001.jpg'), join(IMAGES, 'im00002.jpg')];
  assert.equal(await main(['predict', ...images, '--model', model, '--out', out, '--json'], io), 0, io.errors.join('\n'));
  const printed = JSON.parse(io.lines.join('\n')) as ResultJson[];
  assert.equal(printed.length, 2);
  for (const [i, stem] of ['im00001', 'im00002'].entries()) {
    const result = JSON.parse(readFileSync(join(out, `${stem}.json`), 'utf8')) as ResultJson;
    const meta = await sharp(images[i]).metadata();
    assert.deepEqual(result.imageSize, { width: meta.width, height: meta.height });
    // No --box: the people searched for (this random pose network may find nobody); the top level is the first's.
    assert.ok(Array.isArray(result.people));
    assert.deepEqual(result.box, result.people[0]?.box ?? { x: 0, y: 0, width: meta.width, height: meta.height });
    assert.deepEqual(result.keypoints, result.people[0]?.keypoints ?? []);
    for (const p of result.people) assert.deepEqual(p.keypoints.map((k) => k.name), LSP14.joints);
    assert.ok(result.keypoints.every((k) => Number.isFinite(k.x) && Number.isFinite(k.y) && Number.isFinite(k.score)));
    assert.deepEqual(printed[i].keypoints, result.keypoints);
    const png = await sharp(join(out, `${stem}.png`)).metadata();
    assert.equal(png.format, 'png');
    assert.deepEqual([png.width, png.height], [meta.width, meta.height]);
  }
  // Nothing but the results (no temporary files left behind).
  assert.deepEqual(readdirSync(out).sort(), ['im00001.json', 'im00001.png', 'im00002.json', 'im00002.png']);
});

test('predict reads grey, RGBA PNG and WebP files; same-named inputs get distinct outputs; --box is used', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hg-predict-'));
  const model = await tinyCheckpoint(dir);
  const src = join(IMAGES, 'im00003.jpg');
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'b'));
  await sharp(src).greyscale().png().toFile(join(dir, 'a', 'person.png'));
  await sharp(src).ensureAlpha(0.5).png().toFile(join(dir, 'b', 'person.png'));
  await sharp(src).webp().toFile(join(dir, 'person.webp'));
  const out = join(dir, 'out');
  const io = capture();
  const code = await main(['predict', join(dir, 'a', 'person.png'), join(dir, 'b', 'person.png'), join(dir, 'person.webp'),
    '--box', '5,10,60,90', '--model', model, '--out', out, '--backend', 'cpu', '--no-overlay'], io);
  assert.equal(code, 0, io.errors.join('\n'));
  assert.deepEqual(readdirSync(out).sort(), ['person-2.json', 'person-3.json', 'person.json']);
  const r = JSON.parse(readFileSync(join(out, 'person.json'), 'utf8')) as ResultJson;
  assert.deepEqual(r.box, { x: 5, y: 10, width: 60, height: 90 });
});

test('predict: bad --box is refused before any work; an unreadable image is named, the others still get results', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hg-predict-'));
  const model = await tinyCheckpoint(dir);
  const out = join(dir, 'out');
  const bad = capture();
  assert.equal(await main(['predict', join(IMAGES, 'im00001.jpg'), '--box', '1,2,3', '--model', model, '--out', out], bad), 2);
  assert.match(bad.errors.join('\n'), /--box must be x,y,width,height/);
  const badScales = capture();
  assert.equal(await main(['predict', join(IMAGES, 'im00001.jpg'), '--scales', '0.9,1.1', '--model', model, '--out', out], badScales), 2);
  assert.match(badScales.errors.join('\n'), /scales must include 1/);
  assert.equal(existsSync(out), false);
  const broken = join(dir, 'broken.jpg');
  copyFileSync(join(FIXTURES, 'lspet', 'joints.mat'), broken); // not an image
  const io = capture();
  const code = await main(['predict', join(dir, 'missing.jpg'), broken, join(IMAGES, 'im00001.jpg'), '--model', model, '--out', out, '--backend', 'cpu'], io);
  assert.equal(code, 2);
  const errors = io.errors.join('\n');
  assert.match(errors, /missing\.jpg: image file not found/);
  assert.match(errors, /broken\.jpg: not a readable image/);
  assert.match(errors, /2 of 3 images failed/);
  assert.deepEqual(readdirSync(out).sort(), ['im00001.json', 'im00001.png']);
  const allBad = capture();
  const out2 = join(dir, 'out2');
  assert.equal(await main(['predict', broken, '--model', model, '--out', out2, '--backend', 'cpu'], allBad), 2);
  assert.match(allBad.errors.join('\n'), /the image failed; no results written/);
  assert.deepEqual(readdirSync(out2), []);
  const missingModel = capture();
  assert.equal(await main(['predict', join(IMAGES, 'im00001.jpg'), '--model', join(dir, 'nope.ckpt')], missingModel), 2);
  assert.match(missingModel.errors.join('\n'), /nope\.ckpt/);
});

test('predict without images runs on the bundled sample images', async () => {
  const samples = sampleImages();
  assert.ok(samples.length >= 3, 'the package ships sample images');
  const dir = mkdtempSync(join(tmpdir(), 'hg-predict-'));
  const model = await tinyCheckpoint(dir);
  const out = join(dir, 'out');
  const io = capture();
  assert.equal(await main(['predict', '--model', model, '--out', out, '--no-overlay'], io), 0, io.errors.join('\n'));
  assert.match(io.errors.join('\n'), new RegExp(`predicting the ${samples.length} sample images`));
  assert.equal(readdirSync(out).filter((f) => f.endsWith('.json')).length, samples.length);
});
