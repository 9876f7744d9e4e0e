// Tests of the custom keypoints JSON reader: the three ways to give the person box, and validation errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataset } from '../../src/data/readers/index.js';
import { readCustom } from '../../src/data/readers/custom.js';
import { flipPermutation } from '../../src/data/skeletons/types.js';
import { FIXTURES } from './paths.js';

const FILE = join(FIXTURES, 'custom', 'poses.json');
const tmp = mkdtempSync(join(tmpdir(), 'hg-custom-'));

test('custom: skeleton, samples, and the person box from joints, box, or center/scale', async () => {
  const d = await readDataset({ format: 'custom', file: FILE, checkImages: 'require' });
  assert.equal(d.name, 'tiny');
  assert.deepEqual(d.skeleton.joints, ['head', 'left_hand', 'right_hand']);
  assert.deepEqual(flipPermutation(d.skeleton), [0, 2, 1]);
  assert.equal(d.samples.length, 3);
  const [a, b, c] = d.samples as [typeof d.samples[0], typeof d.samples[0], typeof d.samples[0]];
  assert.equal(a.imagePath, join(FIXTURES, 'lspet', 'images', 'im00001.jpg'));
  assert.ok(existsSync(a.imagePath));
  // From joints: x 30..70, y 20..61 -> centre (50, 40.5), scale 41 * 1.25 / 200.
  assert.deepEqual(a.center, [50, 40.5]);
  assert.equal(a.scale, (41 * 1.25) / 200);
  assert.deepEqual(Array.from(a.occluded!), [0, 0, 1]);
  // From box [0, 0, 60, 50].
  assert.deepEqual(b.center, [30, 25]);
  assert.equal(b.scale, (60 * 1.25) / 200);
  assert.deepEqual(Array.from(b.visible), [1, 0, 1]);
  // Given.
  assert.deepEqual(c.center, [5, 5]);
  assert.equal(c.scale, 0.2);
  assert.equal(c.normalize, 8);
  assert.equal(readCustom({ file: FILE, images: '2-3' }).samples[0]!.id, 'tiny:2');
});

test('custom: errors name the file, the record and the field', () => {
  const good = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, unknown> & { samples: Record<string, unknown>[]; skeleton: Record<string, unknown> };
  const cases: [string, (j: typeof good) => void, RegExp][] = [
    ['format', (j) => { j['format'] = 'coco'; }, /record top level, field 'format': expected "hourglass-keypoints", got "coco"/],
    ['version', (j) => { j['version'] = 2; }, /field 'version': expected 1, got 2/],
    ['names', (j) => { j.skeleton['joints'] = ['a', 'a', 'b']; }, /record skeleton, field 'joints': joint name 'a' appears twice/],
    ['flip', (j) => { j.skeleton['flipPairs'] = [[1, 5]]; }, /record skeleton, field 'flipPairs\[0\]': expected 2 joint indices in 0\.\.2, got \[1,5\]/],
    ['twice', (j) => { j.skeleton['flipPairs'] = [[1, 2], [2, 0]]; }, /field 'flipPairs\[1\]': joint 2 is already paired/],
    ['count', (j) => { j.samples[1]!['joints'] = [[1, 2, 2]]; }, /record samples\[1\], field 'joints': expected 3 \[x, y, v\] entries/],
    ['x', (j) => { j.samples[2]!['joints'] = [[1, 2, 2], ['12', 3, 2], [4, 5, 2]]; }, /record samples\[2\], field 'joints\[1\]\.x': expected a finite number, got "12"/],
    ['v', (j) => { j.samples[0]!['joints'] = [[1, 2, 2], [3, 3, 5], [4, 5, 2]]; }, /record samples\[0\], field 'joints\[1\]\.v': expected 0, 1 or 2, got 5/],
    ['image', (j) => { delete j.samples[0]!['image']; }, /record samples\[0\], field 'image': expected an image path/],
    ['scale', (j) => { delete j.samples[2]!['scale']; }, /record samples\[2\], field 'scale': give center and scale together/],
    ['box', (j) => { j.samples[1]!['box'] = [0, 0, 0, 5]; }, /record samples\[1\], field 'box': width and height must be positive/],
    ['nobox', (j) => { j.samples[1]!['joints'] = [[1, 2, 2], [0, 0, 0], [0, 0, 0]]; delete j.samples[1]!['box']; }, /record samples\[1\], field 'joints': no center\/scale or box, and fewer than two labelled joints/],
    ['norm', (j) => { j.samples[2]!['normalize'] = 0; }, /record samples\[2\], field 'normalize': expected a positive number, got 0/],
  ];
  for (const [name, edit, message] of cases) {
    const j = structuredClone(good);
    edit(j);
    const file = join(tmp, `${name}.json`);
    writeFileSync(file, JSON.stringify(j));
    assert.throws(() => readCustom({ file }), (e: unknown) => e instanceof Error && e.message.startsWith(`${file}: `) && message.test(e.message), `${name}: ${String(message)}`);
  }
  assert.throws(() => readCustom({ file: join(tmp, 'absent.json') }), /absent\.json: custom keypoints file does not exist/);
});
