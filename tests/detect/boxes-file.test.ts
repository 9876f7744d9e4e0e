// COCO-style detections files (`predict --boxes`): boxes by image, non-person categories skipped, and clear errors
// naming the file and the entry for malformed files and boxes outside the image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDetections } from '../../src/detect/boxes-file.js';
import { FileFormatError } from '../../src/errors.js';

const SIZE = { width: 200, height: 100 };

function file(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'hg-boxes-')), 'detections.json');
  writeFileSync(path, content);
  return path;
}

test('detections are matched to images by file name, stem or COCO number; other categories are skipped', () => {
  const path = file(JSON.stringify([
    { image_id: 397133, category_id: 1, bbox: [10, 10, 50, 80], score: 0.9 },
    { image_id: 397133, category_id: 18, bbox: [0, 0, 20, 20], score: 0.99 },
    { image_id: 'a.jpg', bbox: [1, 2, 3, 4] },
    { image_id: 'b', bbox: [5, 6, 7, 8], score: 0.5 },
  ]));
  const d = readDetections(path);
  assert.deepEqual(d.boxesFor('/x/000000397133.jpg', SIZE), [{ x: 10, y: 10, width: 50, height: 80, score: 0.9, entry: 0 }]);
  assert.deepEqual(d.boxesFor('dir/a.jpg', SIZE), [{ x: 1, y: 2, width: 3, height: 4, score: 1, entry: 2 }]);
  assert.deepEqual(d.boxesFor('b.png', SIZE).map((b) => b.score), [0.5]);
  assert.deepEqual(d.boxesFor('c.jpg', SIZE), []);
  // The annotations form with an images list.
  const coco = readDetections(file(JSON.stringify({ images: [{ id: 7, file_name: 'p.jpg' }], annotations: [{ image_id: 7, bbox: [0, 0, 9, 9] }] })));
  assert.equal(coco.boxesFor('p.jpg', SIZE).length, 1);
});

test('malformed detections files and boxes outside the image are errors naming the file and the entry', () => {
  const cases: [string, RegExp][] = [
    ['not json', /not valid JSON/],
    ['{"x": 1}', /expected a JSON array of detections/],
    ['[1]', /detection 0 is not an object/],
    ['[{"bbox": [1, 2, 3, 4]}]', /detection 0: image_id must be/],
    ['[{"image_id": 1, "bbox": [1, 2, 3]}]', /detection 0: bbox must be \[x, y, width, height\]/],
    ['[{"image_id": 1, "bbox": [1, 2, 3, 4]}, {"image_id": 1, "bbox": [1, 2, 0, 4]}]', /detection 1: bbox width and height must be at least 1/],
    ['[{"image_id": 1, "bbox": [1, 2, 3, 4], "score": "high"}]', /detection 0: score must be a number/],
  ];
  for (const [content, pattern] of cases) {
    const path = file(content);
    assert.throws(() => readDetections(path), (e: Error) => e instanceof FileFormatError && e.message.includes(path) && pattern.test(e.message), `${content} -> ${pattern}`);
  }
  assert.throws(() => readDetections('/nonexistent/d.json'), (e: Error) => e instanceof FileFormatError && /d\.json: detections file not found/.test(e.message));
  const outside = readDetections(file('[{"image_id": "a", "bbox": [10, 10, 5, 5]}, {"image_id": "a", "bbox": [250, 10, 5, 5]}]'));
  assert.throws(() => outside.boxesFor('a.jpg', SIZE), (e: Error) => e instanceof FileFormatError && /detection 1: bbox 250,10,5,5 lies outside a\.jpg \(200x100\)/.test(e.message));
});
