// LSP / LSPET reader: `joints.mat` (MATLAB level 5) + `images/`. LSP stores 3x14xN (x, y, occlusion flag),
// LSPET 14x3xN (x, y, visibility flag); the layout is told from the array's shape.
import { join } from 'node:path';
import { FileFormatError } from '../../errors.js';
import { resolveSelection } from '../range.js';
import type { Dataset, Sample } from '../sample.js';
import { LSP14 } from '../skeletons/lsp.js';
import { finite, recordError, requireDir, requireFile } from './checks.js';
import { matIndex, readMatArray } from './mat.js';
import { boxFromJoints } from '../../geometry/person-box.js';

const K = 14;

/** 'lsp': 3x14xN, flag 1 = occluded, every joint labelled. 'lspet': 14x3xN, flag 1 = visible (labelled). */
export type LspKind = 'lsp' | 'lspet';

export interface LspOptions {
  /** Folder holding `joints.mat` and `images/`. */
  readonly root: string;
  /** Which layout to expect; 'auto' (default) tells it from the shape of `joints`. */
  readonly kind?: LspKind | 'auto';
  /** Images folder; default `<root>/images`. Images need not exist at read time. */
  readonly imagesDir?: string;
  /** Records to keep: a range such as '1-6000' or 1-based indices; default all. */
  readonly images?: string | readonly number[];
  /**
   * Where the file's pixel indices start. Default: 1 for LSP (Johnson's MATLAB annotations: x0 = x - 1),
   * 0 for LSPET (its crowd-sourced labels reach exactly 0 at the left/top border, which a 1-based index
   * cannot, and never the last column/row: they are already 0-based, kept as they are).
   */
  readonly origin?: 0 | 1;
}

/** Layout of a `joints` array of dims `dims`, or null when it is neither 3x14xN nor 14x3xN. */
export function lspLayout(dims: readonly number[]): { kind: LspKind; count: number } | null {
  const [a, b, n = 1] = dims;
  if (dims.length < 2 || dims.length > 3) return null;
  if (a === 3 && b === K) return { kind: 'lsp', count: n };
  if (a === K && b === 3) return { kind: 'lspet', count: n };
  return null;
}

/** Reads LSP or LSPET. Throws FileFormatError naming the file, record and field on bad input. */
export function readLsp(options: LspOptions): Dataset {
  requireDir(options.root, 'LSP dataset root');
  const file = join(options.root, 'joints.mat');
  requireFile(file, 'LSP joints.mat');
  const arr = readMatArray(file, 'joints');
  const layout = lspLayout(arr.dims);
  if (layout === null) {
    throw new FileFormatError(file, `variable 'joints' has shape ${arr.dims.join('x')}; expected 3x14xN (LSP) or 14x3xN (LSPET)`);
  }
  const wanted = options.kind ?? 'auto';
  if (wanted !== 'auto' && wanted !== layout.kind) {
    const shape = wanted === 'lsp' ? '3x14xN' : '14x3xN';
    throw new FileFormatError(file, `expected ${wanted.toUpperCase()} layout ${shape}, found ${arr.dims.join('x')} (${layout.kind.toUpperCase()})`);
  }
  const { kind, count } = layout;
  const origin = options.origin ?? (kind === 'lsp' ? 1 : 0);
  const imagesDir = options.imagesDir ?? join(options.root, 'images');
  const digits = kind === 'lsp' ? 4 : 5;
  // value(joint, c, n) with c = 0 x, 1 y, 2 flag, whatever the layout.
  const dims = [arr.dims[0]!, arr.dims[1]!, count];
  const value = kind === 'lsp'
    ? (j: number, c: number, n: number) => arr.data[matIndex(dims, [c, j, n])]!
    : (j: number, c: number, n: number) => arr.data[matIndex(dims, [j, c, n])]!;

  const samples: Sample[] = [];
  for (const index of resolveSelection(options.images, count, file)) {
    const n = index - 1;
    const joints = new Float32Array(K * 2);
    const visible = new Uint8Array(K);
    const occluded = new Uint8Array(K);
    for (let j = 0; j < K; j++) {
      const field = `joints[${j} ${LSP14.joints[j]}]`;
      const flag = value(j, 2, n);
      if (flag !== 0 && flag !== 1) throw recordError(file, index, field, `flag is ${flag}, expected 0 or 1`);
      // LSP: every joint is labelled, the flag marks occlusion. LSPET: flag 0 = no label (all 16,787 such joints
      // in joints.mat have x or y <= 0), flag 1 = labelled, possibly a little outside the image.
      const labelled = kind === 'lsp' || flag === 1;
      if (!labelled) continue;
      joints[2 * j] = finite(value(j, 0, n), file, index, `${field}.x`) - origin;
      joints[2 * j + 1] = finite(value(j, 1, n), file, index, `${field}.y`) - origin;
      visible[j] = 1;
      if (kind === 'lsp' && flag === 1) occluded[j] = 1;
    }
    const box = boxFromJoints(joints, visible);
    if (box === null) throw recordError(file, index, 'joints', 'fewer than two labelled joints: no person box');
    samples.push({
      id: `${kind}:${index}`,
      index,
      imagePath: join(imagesDir, `im${String(index).padStart(digits, '0')}.jpg`),
      joints,
      visible,
      ...(kind === 'lsp' ? { occluded } : {}),
      center: box.center,
      scale: box.scale,
    });
  }
  return { name: kind, skeleton: LSP14, samples, boxRule: 'as-is', source: file };
}
