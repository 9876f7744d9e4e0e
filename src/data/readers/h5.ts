// Reader of the original pose-hg-train `.h5` annotation format (center, scale, part, visible, normalize, imgname,
// optional index, person, torsoangle) + an images folder: MPII and FLIC. Also reads prediction files (`preds`).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { FileFormatError } from '../../errors.js';
import { resolveSelection } from '../range.js';
import type { BoxRule, Dataset, Sample } from '../sample.js';
import type { Skeleton } from '../skeletons/types.js';
import { finite, recordError, requireFile } from './checks.js';

export interface H5Options {
  /** The annotation file, e.g. `mpii/valid.h5`. */
  readonly file: string;
  /** Folder the `imgname` entries are relative to. Images need not exist at read time. */
  readonly imagesDir: string;
  /** Joint order of `part` (its K must match). */
  readonly skeleton: Skeleton;
  /** Dataset name for ids and logs, e.g. 'mpii'. */
  readonly name: string;
  /** How the crop step treats (center, scale): 'mpii' for MPII files, 'as-is' otherwise (see `cropBox`). */
  readonly boxRule: BoxRule;
  /**
   * Where the file's pixel indices start. Default 1: the files were written from MATLAB annotations for Torch
   * (both 1-based), so x0 = x - 1 for `part` and `center`. `normalize` and `scale` are lengths: unchanged.
   */
  readonly origin?: 0 | 1;
  /** Records to keep: a range such as '1-500' or 1-based indices; default all. */
  readonly images?: string | readonly number[];
}

/** A predictions file: `points` is [N*K*2] (x, y per joint per record), 0-based like the annotations. */
export interface Predictions {
  readonly file: string;
  readonly count: number;
  readonly numJoints: number;
  readonly points: Float32Array;
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Runs an h5wasm call with HDF5's error stack (dozens of lines it prints to stderr) held back: a failure becomes one
 * FileFormatError naming the file, with HDF5's innermost message as the detail.
 */
function quietly<T>(file: string, what: string, fn: () => T): T {
  const lines: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  let failure: unknown = null;
  let value: T | undefined;
  try {
    value = fn();
  } catch (err) {
    failure = err;
  } finally {
    process.stderr.write = write;
  }
  const diag = lines.join('').split('\n').filter((l) => /line \d+ in /.test(l));
  if (failure !== null || diag.length > 0) {
    const innermost = diag.length ? diag[diag.length - 1].replace(/^.* in [A-Za-z0-9_]+\(\): /, '').trim() : '';
    const detail = innermost || (failure instanceof Error ? failure.message : String(failure));
    throw new FileFormatError(file, `${what} (${detail}); the file may be damaged or truncated`);
  }
  return value as T;
}

/**
 * HDF5 records the file's length in its superblock (versions 0-3); a shorter file was cut off, e.g. by an interrupted
 * copy. Checked here so that the error says so instead of HDF5's stack.
 */
function checkNotTruncated(file: string): void {
  const head = Buffer.alloc(96);
  const fd = openSync(file, 'r');
  let size: number;
  try {
    readSync(fd, head, 0, head.length, 0);
    size = fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
  const version = head[8];
  let eofAt: number;
  let offsetSize: number;
  if (version === 0 || version === 1) {
    offsetSize = head[13];
    eofAt = 24 + (version === 1 ? 4 : 0) + 2 * offsetSize;
  } else if (version === 2 || version === 3) {
    offsetSize = head[9];
    eofAt = 12 + 2 * offsetSize;
  } else {
    return; // a newer layout: leave it to HDF5
  }
  if (offsetSize !== 8 && offsetSize !== 4) return;
  const stored = offsetSize === 8 ? Number(head.readBigUInt64LE(eofAt)) : head.readUInt32LE(eofAt);
  if (stored > size) {
    throw new FileFormatError(file, `truncated: the file has ${size} bytes, its HDF5 header says ${stored}; copy it again`);
  }
}

/** An open .h5 file with typed, shape-checked access to its top-level datasets. */
class H5Reader {
  private constructor(readonly file: string, private readonly h5: InstanceType<typeof h5wasm.File>) {}

  static async open(file: string): Promise<H5Reader> {
    requireFile(file, 'HDF5 annotation file');
    // Check the signature ourselves: HDF5 would print its error stack to stderr and throw a vague error.
    const head = Buffer.alloc(8);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, head, 0, 8, 0);
    } finally {
      closeSync(fd);
    }
    if (!head.equals(HDF5_SIGNATURE)) throw new FileFormatError(file, 'not an HDF5 file (no HDF5 signature at byte 0)');
    checkNotTruncated(file);
    await h5wasm.ready;
    const h5 = quietly(file, 'HDF5 cannot open it', () => new h5wasm.File(file, 'r'));
    return new H5Reader(file, h5);
  }

  close(): void {
    quietly(this.file, 'HDF5 cannot close it', () => this.h5.close());
  }

  has(name: string): boolean {
    return quietly(this.file, 'HDF5 cannot list its datasets', () => this.h5.keys()).includes(name);
  }

  private dataset(name: string): InstanceType<typeof h5wasm.Dataset> {
    // Look the name up first: get() of an absent name makes HDF5 print its error stack.
    const d = this.has(name) ? quietly(this.file, `HDF5 cannot read '${name}'`, () => this.h5.get(name)) : null;
    if (d === null) {
      throw new FileFormatError(this.file, `dataset '${name}' is missing (datasets present: ${this.h5.keys().join(', ') || 'none'})`);
    }
    if (!(d instanceof h5wasm.Dataset)) throw new FileFormatError(this.file, `'${name}' is not a dataset`);
    return d;
  }

  /** Numeric dataset as float64, checking its shape; -1 in `shape` matches any size. */
  numbers(name: string, shape: readonly number[]): Float64Array {
    const d = this.dataset(name);
    this.checkShape(name, d.shape ?? [], shape);
    const v = quietly(this.file, `HDF5 cannot read dataset '${name}'`, () => d.value);
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      if (v instanceof BigInt64Array || v instanceof BigUint64Array) return Float64Array.from(v, (x) => Number(x));
      return Float64Array.from(v);
    }
    throw new FileFormatError(this.file, `dataset '${name}' has type ${JSON.stringify(d.dtype)}; expected numbers`);
  }

  /** String dataset (fixed or variable length), checking its shape. */
  strings(name: string, shape: readonly number[]): string[] {
    const d = this.dataset(name);
    this.checkShape(name, d.shape ?? [], shape);
    const v = quietly(this.file, `HDF5 cannot read dataset '${name}'`, () => d.value);
    if (Array.isArray(v) && v.every((s): s is string => typeof s === 'string')) return v.map((s) => s.replace(/\0+$/, ''));
    throw new FileFormatError(this.file, `dataset '${name}' has type ${JSON.stringify(d.dtype)}; expected strings`);
  }

  shapeOf(name: string): number[] {
    return this.dataset(name).shape ?? [];
  }

  private checkShape(name: string, actual: readonly number[], expected: readonly number[]): void {
    const ok = actual.length === expected.length && expected.every((e, i) => e === -1 || e === actual[i]);
    if (!ok) {
      const want = expected.map((e) => (e === -1 ? 'N' : String(e))).join('x');
      throw new FileFormatError(this.file, `dataset '${name}' has shape ${actual.join('x') || 'scalar'}; expected ${want}`);
    }
  }
}

/**
 * Reads an annotation file of the original code. A joint is labelled unless its `part` is exactly (0, 0):
 * that is how the files mark missing joints (on MPII valid it equals `!jnt_missing` of the evaluation
 * file for all 47,328 joints; labelled head tops can lie above the image, y < 0). `visible` = 0 on a labelled
 * joint becomes `occluded`.
 */
export async function readH5Annotations(options: H5Options): Promise<Dataset> {
  const { file, skeleton, name } = options;
  const K = skeleton.joints.length;
  const origin = options.origin ?? 1;
  const h5 = await H5Reader.open(file);
  try {
    const N = h5.shapeOf('part')[0] ?? 0;
    const part = h5.numbers('part', [N, K, 2]);
    const center = h5.numbers('center', [N, 2]);
    const scale = h5.numbers('scale', [N]);
    const imgname = h5.strings('imgname', [N]);
    const visible = h5.has('visible') ? h5.numbers('visible', [N, K]) : null;
    const normalize = h5.has('normalize') ? h5.numbers('normalize', [N]) : null;
    for (const optional of ['index', 'person', 'torsoangle']) if (h5.has(optional)) h5.numbers(optional, [N]);

    const samples: Sample[] = [];
    for (const index of resolveSelection(options.images, N, file)) {
      const n = index - 1;
      const joints = new Float32Array(K * 2);
      const labelled = new Uint8Array(K);
      const occluded = new Uint8Array(K);
      for (let j = 0; j < K; j++) {
        const field = `part[${j} ${skeleton.joints[j]}]`;
        const x = finite(part[(n * K + j) * 2]!, file, index, `${field}.x`);
        const y = finite(part[(n * K + j) * 2 + 1]!, file, index, `${field}.y`);
        if (x === 0 && y === 0) continue;
        joints[2 * j] = x - origin;
        joints[2 * j + 1] = y - origin;
        labelled[j] = 1;
        if (visible !== null) {
          const v = finite(visible[n * K + j]!, file, index, `visible[${j}]`);
          if (v !== 0 && v !== 1) throw recordError(file, index, `visible[${j}]`, `expected 0 or 1, got ${v}`);
          occluded[j] = v === 0 ? 1 : 0;
        }
      }
      const s = finite(scale[n]!, file, index, 'scale');
      if (s <= 0) throw recordError(file, index, 'scale', `expected a positive number, got ${s}`);
      const image = imgname[n]!;
      if (image === '') throw recordError(file, index, 'imgname', 'empty image name');
      let norm: number | undefined;
      if (normalize !== null) {
        norm = finite(normalize[n]!, file, index, 'normalize');
        if (norm <= 0) throw recordError(file, index, 'normalize', `expected a positive number, got ${norm}`);
      }
      samples.push({
        id: `${name}:${index}`,
        index,
        imagePath: join(options.imagesDir, image),
        joints,
        visible: labelled,
        ...(visible !== null ? { occluded } : {}),
        center: [
          finite(center[2 * n]!, file, index, 'center.x') - origin,
          finite(center[2 * n + 1]!, file, index, 'center.y') - origin,
        ],
        scale: s,
        ...(norm !== undefined ? { normalize: norm } : {}),
      });
    }
    return { name, skeleton, samples, boxRule: options.boxRule, source: file };
  } finally {
    h5.close();
  }
}

/**
 * Reads a predictions file (dataset `preds`, N x K x 2), e.g. the authors' `valid-ours.h5`. Coordinates are
 * shifted by `origin` (default 1, as the annotation files) so that they are comparable with `readH5Annotations`.
 */
export async function readPredictionsH5(file: string, options: { origin?: 0 | 1; field?: string } = {}): Promise<Predictions> {
  const origin = options.origin ?? 1;
  const field = options.field ?? 'preds';
  const h5 = await H5Reader.open(file);
  try {
    const shape = h5.shapeOf(field);
    const [N = 0, K = 0] = shape;
    const values = h5.numbers(field, [-1, -1, 2]);
    const points = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) {
        const n = Math.floor(i / (2 * K));
        throw recordError(file, n + 1, `${field}[${Math.floor(i / 2) % K}].${i % 2 === 0 ? 'x' : 'y'}`, `expected a finite number, got ${v}`);
      }
      points[i] = v - origin;
    }
    return { file, count: N, numJoints: K, points };
  } finally {
    h5.close();
  }
}
