// The standard MPII PCKh evaluation inputs (`detections_our_format.mat` of the MPII evaluation script): ground
// truth `pos_gt_src`, the evaluation mask `jnt_missing` and head boxes `headboxes_src` (head size = 0.6 x diagonal).
// Scoring predictions against these reproduces the published per-group tables (see tests/eval).
import { readMatArray, matIndex } from '../data/readers/mat.js';
import { FileFormatError } from '../errors.js';
import { headSizeFromBox } from './pck.js';

export interface MpiiStandard {
  readonly count: number;
  /** [N * 16 * 2], 0-based pixel centres (the file's MATLAB coordinates minus 1). */
  readonly truth: Float32Array;
  /** [N * 16] 1 where the joint has ground truth. */
  readonly labelled: Uint8Array;
  /** [N] head sizes. */
  readonly headSizes: Float64Array;
}

export function readMpiiStandard(file: string): MpiiStandard {
  const missing = readMatArray(file, 'jnt_missing');
  const gt = readMatArray(file, 'pos_gt_src');
  const boxes = readMatArray(file, 'headboxes_src');
  const k = 16;
  const n = missing.dims[1] ?? 0;
  const expect = (name: string, dims: readonly number[], want: number[]) => {
    if (dims.length !== want.length || dims.some((d, i) => d !== want[i])) {
      throw new FileFormatError(file, `${name} has shape ${dims.join('x')}, expected ${want.join('x')}`);
    }
  };
  expect('jnt_missing', missing.dims, [k, n]);
  expect('pos_gt_src', gt.dims, [k, 2, n]);
  expect('headboxes_src', boxes.dims, [2, 2, n]);
  const truth = new Float32Array(n * k * 2);
  const labelled = new Uint8Array(n * k);
  const headSizes = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      labelled[i * k + j] = missing.data[matIndex(missing.dims, [j, i])] ? 0 : 1;
      for (let c = 0; c < 2; c++) truth[(i * k + j) * 2 + c] = gt.data[matIndex(gt.dims, [j, c, i])]! - 1;
    }
    const at = (corner: number, c: number) => boxes.data[matIndex(boxes.dims, [corner, c, i])]!;
    headSizes[i] = headSizeFromBox(at(0, 0), at(0, 1), at(1, 0), at(1, 1));
  }
  return { count: n, truth, labelled, headSizes };
}
