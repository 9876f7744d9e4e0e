// Tests of image loading (src/data/image.ts): grey, grey+alpha, RGBA, palette and 16-bit PNG, WebP and JPEG all
// come out as 8-bit RGB; EXIF orientation is ignored unless asked for; bad files give errors naming the file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage, loadImage } from '../../src/data/image.js';
import { FileFormatError } from '../../src/errors.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hg-image-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const W = 6;
const H = 4;
/** A W x H gradient with `channels` channels: value of channel c at (x, y) = 40 * x + 10 * y + 20 * c. */
function raw(channels: number, alpha?: (x: number, y: number) => number): Buffer {
  const b = Buffer.alloc(W * H * channels);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < channels; c++) b[(y * W + x) * channels + c] = 40 * x + 10 * y + 20 * c;
      if (alpha) b[(y * W + x) * channels + channels - 1] = alpha(x, y);
    }
  }
  return b;
}

async function write(name: string, img: sharp.Sharp): Promise<string> {
  const path = join(dir, name);
  await img.toFile(path);
  return path;
}

const rawInput = (channels: 1 | 2 | 3 | 4, alpha?: (x: number, y: number) => number): sharp.Sharp =>
  sharp(raw(channels, alpha), { raw: { width: W, height: H, channels } });

function pixel(data: Uint8Array, x: number, y: number): number[] {
  const o = (y * W + x) * 3;
  return [data[o], data[o + 1], data[o + 2]];
}

test('grey PNG becomes RGB with equal channels', async () => {
  const img = await loadImage(await write('grey.png', rawInput(1).png()));
  assert.deepEqual([img.width, img.height, img.channels, img.data.length], [W, H, 3, W * H * 3]);
  assert.deepEqual(pixel(img.data, 2, 1), [90, 90, 90]);
});

test('RGBA and grey+alpha PNG: alpha is flattened onto black', async () => {
  const alpha = (x: number): number => (x === 0 ? 0 : 255);
  const rgba = await loadImage(await write('rgba.png', rawInput(4, alpha).png()));
  assert.equal(rgba.channels, 3);
  assert.deepEqual(pixel(rgba.data, 0, 0), [0, 0, 0]);
  assert.deepEqual(pixel(rgba.data, 3, 2), [140, 160, 180]);
  const ga = await loadImage(await write('grey-alpha.png', rawInput(2, alpha).png()));
  assert.deepEqual(pixel(ga.data, 0, 1), [0, 0, 0]);
  assert.deepEqual(pixel(ga.data, 1, 1), [50, 50, 50]);
});

test('palette PNG, 16-bit PNG and lossless WebP decode to the same 8-bit RGB', async () => {
  const expected = raw(3);
  const palette = await loadImage(await write('palette.png', rawInput(3).png({ palette: true, colours: 256, dither: 0 })));
  assert.equal(palette.channels, 3);
  const deep = await loadImage(await write('deep.png', rawInput(3).toColourspace('rgb16').png()));
  const meta = await sharp(join(dir, 'deep.png')).metadata();
  assert.equal(meta.depth, 'ushort', 'the fixture really is 16-bit');
  const webp = await loadImage(await write('lossless.webp', rawInput(3).webp({ lossless: true })));
  for (const img of [deep, webp]) assert.deepEqual([...img.data], [...expected]);
  // Quantisation may move palette colours a little.
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(palette.data[i] - expected[i]) <= 8, `palette byte ${i}`);
});

test('JPEG: EXIF orientation is ignored by default, applied with autoOrient', async () => {
  const path = await write('oriented.jpg', rawInput(3).jpeg().withMetadata({ orientation: 6 }));
  const stored = await loadImage(path);
  assert.deepEqual([stored.width, stored.height], [W, H]);
  const upright = await loadImage(path, { autoOrient: true });
  assert.deepEqual([upright.width, upright.height], [H, W]);
});

test('missing, corrupt, truncated and empty files: FileFormatError naming the file', async () => {
  const missing = join(dir, 'nope.jpg');
  await assert.rejects(loadImage(missing), (err: unknown) => err instanceof FileFormatError && err.file === missing && /not found/.test(err.message));
  const garbage = join(dir, 'garbage.jpg');
  writeFileSync(garbage, Buffer.from('this is not an image at all, just text'));
  await assert.rejects(loadImage(garbage), (err: unknown) => err instanceof FileFormatError && err.message.startsWith(`${garbage}: not a readable image`));
  const big = await write('big.jpg', sharp({ create: { width: 200, height: 200, channels: 3, background: '#808080' } }).jpeg());
  const truncated = join(dir, 'truncated.jpg');
  const bytes = readFileSync(big);
  writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await assert.rejects(loadImage(truncated), (err: unknown) => err instanceof FileFormatError && err.file === truncated);
  const empty = join(dir, 'empty.png');
  writeFileSync(empty, Buffer.alloc(0));
  await assert.rejects(loadImage(empty), /empty\.png: empty file/);
  await assert.rejects(loadImage(dir), (err: unknown) => err instanceof FileFormatError && /directory/.test(err.message));
});

test('decodeImage reports the given name', async () => {
  await assert.rejects(decodeImage(Buffer.from([1, 2, 3, 4]), 'upload.png'), /^FileFormatError: upload\.png: /);
  const png = await rawInput(3).png().toBuffer();
  const img = await decodeImage(png, 'mem.png');
  assert.deepEqual([...img.data], [...raw(3)]);
});
