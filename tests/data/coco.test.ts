// Tests of the COCO keypoints reader on a hand-written file: filters, bbox -> center/scale, v flags, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataset } from '../../src/data/readers/index.js';
import { readCoco } from '../../src/data/readers/coco.js';
import { COCO17 } from '../../src/data/skeletons/coco.js';
import { FIXTURES } from './paths.js';

const FILE = join(FIXTURES, 'coco', 'person_keypoints.json');
const IMAGES = join(FIXTURES, 'coco', 'images');
const tmp = mkdtempSync(join(tmpdir(), 'hg-coco-'));

test('COCO: person instances with keypoints; crowd, zero-keypoint and other categories skipped', async () => {
  const d = await readDataset({ format: 'coco', file: FILE });
  assert.equal(d.skeleton, COCO17);
  assert.deepEqual(d.samples.map((s) => s.id), ['coco:1:101', 'coco:2:104']);
  const [a, b] = d.samples as [typeof d.samples[0], typeof d.samples[0]];
  assert.equal(a.imagePath, join(IMAGES, 'a.jpg'));
  // bbox [10, 20, 40, 100]: centre (30, 70), scale max(40, 100) * 1.25 / 200.
  assert.deepEqual(a.center, [30, 70]);
  assert.equal(a.scale, 0.625);
  assert.deepEqual(Array.from(a.visible.slice(0, 7)), [1, 0, 0, 0, 0, 1, 1]);
  assert.deepEqual(Array.from(a.occluded!.slice(0, 7)), [0, 0, 0, 0, 0, 1, 0]); // left shoulder has v = 1
  assert.deepEqual(Array.from(a.joints.slice(10, 14)), [35, 40, 25, 40]);
  assert.deepEqual(b.center, [30, 15]);
  assert.equal(b.scale, 0.375);
});

test('COCO: options include crowd / empty instances, change the margin, select by index', () => {
  const all = readCoco({ file: FILE, imagesDir: IMAGES, includeCrowd: true, minKeypoints: 0 });
  assert.deepEqual(all.samples.map((s) => s.id), ['coco:1:101', 'coco:2:102', 'coco:3:103', 'coco:4:104']);
  const tight = readCoco({ file: FILE, imagesDir: IMAGES, margin: 1, images: '2' });
  assert.deepEqual(tight.samples.map((s) => [s.id, s.scale]), [['coco:2:104', 0.3]]);
});

test('COCO: errors name the file, the record and the field', () => {
  const good = JSON.parse(readFileSync(FILE, 'utf8')) as { annotations: Record<string, unknown>[] };
  const write = (name: string, edit: (j: typeof good) => void): string => {
    const j = structuredClone(good);
    edit(j);
    const file = join(tmp, name);
    writeFileSync(file, JSON.stringify(j));
    return file;
  };
  const cases: [string, (j: typeof good) => void, RegExp][] = [
    ['kps.json', (j) => { j.annotations[0]!['keypoints'] = [1, 2, 3]; }, /record annotations\[0\], field 'keypoints': expected 51 numbers/],
    ['nan.json', (j) => { (j.annotations[3]!['keypoints'] as unknown[])[15 * 3] = 'x'; }, /record annotations\[3\], field 'keypoints\[15 left_ankle\]\.x': expected a number, got "x"/],
    ['v.json', (j) => { (j.annotations[0]!['keypoints'] as unknown[])[2] = 3; }, /record annotations\[0\], field 'keypoints\[0 nose\]\.v': expected 0, 1 or 2, got 3/],
    ['bbox.json', (j) => { j.annotations[0]!['bbox'] = [1, 2, 3]; }, /record annotations\[0\], field 'bbox': expected \[x, y, width, height\]/],
    ['image.json', (j) => { j.annotations[3]!['image_id'] = 99; }, /record annotations\[3\], field 'image_id': 99 is not the id of any entry of images\[\]/],
  ];
  for (const [name, edit, message] of cases) {
    const file = write(name, edit);
    assert.throws(() => readCoco({ file, imagesDir: IMAGES }), (e: unknown) => e instanceof Error && e.message.startsWith(file) && message.test(e.message), name);
  }
  const broken = join(tmp, 'broken.json');
  writeFileSync(broken, '{"images": [');
  assert.throws(() => readCoco({ file: broken, imagesDir: IMAGES }), /broken\.json: not valid JSON/);
  const noAnn = join(tmp, 'noann.json');
  writeFileSync(noAnn, '{"images": []}');
  assert.throws(() => readCoco({ file: noAnn, imagesDir: IMAGES }), /noann\.json: field 'annotations' is missing or not an array/);
});
