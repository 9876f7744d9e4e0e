// Tests of index ranges: parsing as a table of one-line cases, and errors that name the bad part.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIndexRange, resolveSelection } from '../../src/data/range.js';
import { InvalidArgumentError } from '../../src/errors.js';

const GOOD: [string, number | undefined, number[]][] = [
  ['1-4', undefined, [1, 2, 3, 4]],
  ['3', undefined, [3]],
  [' 1-2 , 5-6 ', 10, [1, 2, 5, 6]],
  ['7-7', 7, [7]],
  ['9-10,1', 10, [9, 10, 1]],
];

const BAD: [string, number | undefined, RegExp][] = [
  ['', undefined, /empty/],
  ['0-3', undefined, /1-based/],
  ['5-2', undefined, /ends before it starts/],
  ['1-3,3-4', undefined, /index 3 is selected twice/],
  ['1-8001', 8000, /'1-8001' goes past the dataset's 8000 records/],
  ['a-b', undefined, /bad part 'a-b'/],
  ['1.5', undefined, /bad part '1.5'/],
  ['1-2,', undefined, /bad part ''/],
];

test('parseIndexRange: valid specs', () => {
  for (const [spec, length, want] of GOOD) assert.deepEqual(parseIndexRange(spec, length), want, spec);
});

test('parseIndexRange: invalid specs name the bad part', () => {
  for (const [spec, length, message] of BAD) {
    assert.throws(() => parseIndexRange(spec, length), (e: unknown) => e instanceof InvalidArgumentError && message.test(e.message), spec);
  }
});

test('resolveSelection: all, a range, a list; errors name the dataset', () => {
  assert.deepEqual(resolveSelection(undefined, 3, 'x'), [1, 2, 3]);
  assert.deepEqual(resolveSelection('2-3', 3, 'x'), [2, 3]);
  assert.deepEqual(resolveSelection([3, 1], 3, 'x'), [3, 1]);
  assert.throws(() => resolveSelection([4], 3, 'joints.mat'), /joints\.mat: index 4 is not a record \(expected 1\.\.3\)/);
  assert.throws(() => resolveSelection('1-4', 3, 'joints.mat'), /joints\.mat: index range '1-4'/);
  assert.throws(() => resolveSelection([1, 1], 3, 'x'), /selected twice/);
});
