// Tests of the LSP / LSPET reader on the 12-image LSPET fixture and on hand-made joints.mat files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matIndex, readMatArray } from '../../src/data/readers/mat.js';
import { readDataset } from '../../src/data/readers/index.js';
import { readLsp } from '../../src/data/readers/lsp.js';
import { FileFormatError } from '../../src/errors.js';
import { writeMat } from './mat-writer.js';
import { FIXTURES } from './paths.js';

const ROOT = join(FIXTURES, 'lspet');
const tmp = mkdtempSync(join(tmpdir(), 'hg-lsp-'));

/** A dataset root in tmp holding a joints.mat of the given dims and column-major data. */
function rootWith(name: string, dims: number[], data: ArrayLike<number>): string {
  const root = join(tmp, name);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'joints.mat'), writeMat([{ name: 'joints', dims, data }]));
  return root;
}

/** Valid LSPET-layout data (14x3xN): joint j of record n at (10 + 3j, 20 + 5j + n), all labelled. */
function lspetData(N: number): { dims: number[]; data: Float64Array } {
  const dims = [14, 3, N];
  const data = new Float64Array(14 * 3 * N);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < 14; j++) {
      data[matIndex(dims, [j, 0, n])] = 10 + 3 * j;
      data[matIndex(dims, [j, 1, n])] = 20 + 5 * j + n;
      data[matIndex(dims, [j, 2, n])] = 1;
    }
  }
  return { dims, data };
}

test('LSPET fixture: 12 records, images present, LSPET layout detected', async () => {
  const d = await readDataset({ format: 'lsp', root: ROOT, checkImages: 'require' });
  assert.equal(d.name, 'lspet');
  assert.equal(d.skeleton.id, 'lsp14');
  assert.equal(d.samples.length, 12);
  assert.equal(d.boxRule, 'as-is');
  const s = d.samples[0]!;
  assert.equal(s.id, 'lspet:1');
  assert.equal(s.index, 1);
  assert.equal(s.imagePath, join(ROOT, 'images', 'im00001.jpg'));
  assert.ok(existsSync(s.imagePath));
  assert.equal(s.occluded, undefined);
});

test('LSPET: visibility flag 0 = unlabelled (position zeroed), flag 1 = labelled, coordinates kept 0-based', () => {
  const raw = readMatArray(join(ROOT, 'joints.mat'), 'joints');
  const d = readLsp({ root: ROOT });
  for (const s of d.samples) {
    for (let j = 0; j < 14; j++) {
      const flag = raw.data[matIndex(raw.dims, [j, 2, s.index - 1])];
      assert.equal(s.visible[j], flag);
      const x = flag === 1 ? raw.data[matIndex(raw.dims, [j, 0, s.index - 1])]! : 0;
      assert.equal(s.joints[2 * j], Math.fround(x));
    }
  }
  // Record 1: the right ankle is unlabelled in LSPET (x 0, y -26.1, flag 0).
  assert.equal(d.samples[0]!.visible[0], 0);
  assert.deepEqual(Array.from(d.samples[0]!.joints.slice(0, 2)), [0, 0]);
});

test('LSPET: center = labelled joints box centre, scale = longer side * 1.25 / 200', () => {
  const s = readLsp({ root: ROOT, images: '2' }).samples[0]!;
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let j = 0; j < 14; j++) {
    if (s.visible[j] !== 1) continue;
    x0 = Math.min(x0, s.joints[2 * j]!); x1 = Math.max(x1, s.joints[2 * j]!);
    y0 = Math.min(y0, s.joints[2 * j + 1]!); y1 = Math.max(y1, s.joints[2 * j + 1]!);
  }
  assert.deepEqual(s.center, [(x0 + x1) / 2, (y0 + y1) / 2]);
  assert.equal(s.scale, (Math.max(x1 - x0, y1 - y0) * 1.25) / 200);
});

test('selection keeps the original 1-based indices', () => {
  const d = readLsp({ root: ROOT, images: '3-4,10' });
  assert.deepEqual(d.samples.map((s) => s.id), ['lspet:3', 'lspet:4', 'lspet:10']);
  assert.equal(d.samples[2]!.imagePath, join(ROOT, 'images', 'im00010.jpg'));
  assert.throws(() => readLsp({ root: ROOT, images: '1-13' }), /'1-13' goes past the dataset's 12 records/);
});

test('LSP layout 3x14xN: occlusion flag, every joint labelled, MATLAB origin removed', () => {
  const N = 2;
  const dims = [3, 14, N];
  const data = new Float64Array(3 * 14 * N);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < 14; j++) {
      data[matIndex(dims, [0, j, n])] = 10 + j;
      data[matIndex(dims, [1, j, n])] = 100 + 2 * j + n;
      data[matIndex(dims, [2, j, n])] = j === 5 ? 1 : 0; // left ankle occluded
    }
  }
  const d = readLsp({ root: rootWith('lsp', dims, data) });
  assert.equal(d.name, 'lsp');
  const s = d.samples[1]!;
  assert.equal(s.imagePath, join(tmp, 'lsp', 'images', 'im0002.jpg'));
  assert.deepEqual(Array.from(s.visible), new Array(14).fill(1));
  assert.deepEqual(Array.from(s.occluded ?? []), Array.from({ length: 14 }, (_, j) => (j === 5 ? 1 : 0)));
  assert.deepEqual(Array.from(s.joints.slice(0, 4)), [9, 100, 10, 102]); // (10, 101) and (11, 103) minus 1
  assert.deepEqual(s.center, [15.5, 113]); // x 9..22, y 100..126
  assert.equal(s.scale, (26 * 1.25) / 200);
  assert.equal(readLsp({ root: join(tmp, 'lsp'), origin: 0 }).samples[1]!.joints[0], 10);
  assert.throws(() => readLsp({ root: join(tmp, 'lsp'), kind: 'lspet' }), /expected LSPET layout 14x3xN, found 3x14x2 \(LSP\)/);
});

test('errors name the file, the record and the field', () => {
  const missingRoot = join(tmp, 'nope');
  assert.throws(() => readLsp({ root: missingRoot }), (e: unknown) => e instanceof FileFormatError && e.message === `${missingRoot}: LSP dataset root folder does not exist`);
  mkdirSync(join(tmp, 'empty'));
  assert.throws(() => readLsp({ root: join(tmp, 'empty') }), /empty[/\\]joints\.mat: LSP joints\.mat does not exist/);
  assert.throws(() => readLsp({ root: rootWith('shape', [14, 2, 3], new Float64Array(84)) }), /joints\.mat: variable 'joints' has shape 14x2x3; expected 3x14xN \(LSP\) or 14x3xN \(LSPET\)/);

  const { dims, data: nan } = lspetData(2);
  nan[matIndex(dims, [3, 1, 1])] = NaN; // record 2, joint 3 (left hip), y
  assert.throws(() => readLsp({ root: rootWith('nan', dims, nan) }), /joints\.mat: record 2, field 'joints\[3 left_hip\]\.y': expected a finite number, got NaN/);
  const { data: flag } = lspetData(2);
  flag[matIndex(dims, [0, 2, 0])] = 2;
  assert.throws(() => readLsp({ root: rootWith('flag', dims, flag) }), /record 1, field 'joints\[0 right_ankle\]': flag is 2, expected 0 or 1/);
  const lonely = new Float64Array(84);
  lonely[matIndex(dims, [0, 2, 0])] = 1;
  assert.throws(() => readLsp({ root: rootWith('lonely', dims, lonely) }), /record 1, field 'joints': fewer than two labelled joints/);
  const other = join(tmp, 'other');
  mkdirSync(other);
  writeFileSync(join(other, 'joints.mat'), writeMat([{ name: 'pos', dims: [1, 1], data: [0] }]));
  assert.throws(() => readLsp({ root: other }), /variable 'joints' is missing \(variables present: pos\)/);
});

test("checkImages: 'require' lists missing images, 'skip' drops them", async () => {
  const { dims, data } = lspetData(3);
  const root = rootWith('images', dims, data);
  mkdirSync(join(root, 'images'));
  writeFileSync(join(root, 'images', 'im00002.jpg'), 'not really a jpeg');
  await assert.rejects(readDataset({ format: 'lspet', root, checkImages: 'require' }), /2 of 3 selected images are missing, e\.g\. .*im00001\.jpg \(record 1\)/);
  const d = await readDataset({ format: 'lspet', root, checkImages: 'skip' });
  assert.deepEqual(d.samples.map((s) => s.index), [2]);
});
