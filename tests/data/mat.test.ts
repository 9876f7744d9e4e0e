// Tests of the MATLAB level-5 reader: round trips through the test writer and clear errors on bad files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matIndex, parseMat, readMatArray } from '../../src/data/readers/mat.js';
import { FileFormatError } from '../../src/errors.js';
import { writeMat } from './mat-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'hg-mat-'));
const dims = [2, 3, 2];
const data = Array.from({ length: 12 }, (_, i) => i * 1.5 - 3);

test('readMatArray: compressed and uncompressed doubles, column-major layout', () => {
  for (const compress of [true, false]) {
    const file = join(dir, `a-${compress}.mat`);
    writeFileSync(file, writeMat([{ name: 'other', dims: [1, 1], data: [7] }, { name: 'joints', dims, data }], compress));
    const arr = readMatArray(file, 'joints');
    assert.equal(arr.className, 'double');
    assert.deepEqual(arr.dims, dims);
    assert.deepEqual(Array.from(arr.data), data);
    // element (i=1, j=2, k=1) sits at 1 + 2*(2 + 3*1) = 11
    assert.equal(matIndex(dims, [1, 2, 1]), 11);
    assert.equal(arr.data[matIndex(dims, [1, 2, 1])], data[11]);
  }
});

test('readMatArray: errors name the file and the problem', () => {
  const good = writeMat([{ name: 'joints', dims, data }], false);
  const cases: [string, Buffer, RegExp][] = [
    ['short.mat', Buffer.from('hello'), /not a MATLAB level-5 MAT-file \(only 5 bytes/],
    ['text.mat', Buffer.alloc(200, 'x'), /not a MATLAB level-5 MAT-file: no endian marker/],
    ['truncated.mat', good.subarray(0, good.length - 40), /truncated: the data element at byte 128 needs/],
    ['truncated-z.mat', writeMat([{ name: 'joints', dims, data }]).subarray(0, 150), /truncated/],
  ];
  for (const [name, bytes, message] of cases) {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    assert.throws(() => readMatArray(file, 'joints'), (e: unknown) => e instanceof FileFormatError && e.message.startsWith(file) && message.test(e.message), name);
  }
  const other = join(dir, 'other.mat');
  writeFileSync(other, writeMat([{ name: 'pos', dims: [1, 2], data: [1, 2] }]));
  assert.throws(() => readMatArray(other, 'joints'), /variable 'joints' is missing \(variables present: pos\)/);
  assert.throws(() => readMatArray(join(dir, 'absent.mat'), 'joints'), /absent\.mat: cannot read MAT-file/);
});

test('parseMat: a data size that does not match the dimensions is an error', () => {
  const bytes = writeMat([{ name: 'joints', dims: [2, 2], data: [1, 2, 3] }], false);
  assert.throws(() => parseMat(bytes, 'x.mat'), /x\.mat: variable 'joints': dimensions 2x2 need 4 values, the data holds 3/);
});
