// MATLAB level-5 MAT-file reader (numeric, logical and char arrays; miCOMPRESSED via node:zlib).
// Format: MathWorks "MAT-File Format" (level 5): 128-byte header, then tagged data elements.
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { FileFormatError } from '../../errors.js';

/** MATLAB array classes this reader can return as numbers. */
export type MatClass =
  | 'double' | 'single' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'
  | 'logical' | 'char';

/**
 * One numeric array. `data` is in MATLAB's column-major order: the element at 0-based subscripts
 * (i, j, k) of dims [d0, d1, d2] is data[i + d0 * (j + d1 * k)] (see `matIndex`). Values are converted to
 * float64 whatever the stored type (MATLAB stores doubles as small integers when they fit).
 */
export interface MatArray {
  readonly name: string;
  readonly className: MatClass;
  readonly dims: readonly number[];
  readonly data: Float64Array;
}

/** A variable whose class this reader does not decode (cell, struct, object, sparse, complex). */
export interface MatUnsupported {
  readonly name: string;
  readonly className: 'unsupported';
  readonly detail: string;
}

export type MatVariable = MatArray | MatUnsupported;

const CLASS_NAMES: Record<number, MatClass> = {
  4: 'char', 6: 'double', 7: 'single', 8: 'int8', 9: 'uint8', 10: 'int16', 11: 'uint16',
  12: 'int32', 13: 'uint32', 14: 'int64', 15: 'uint64',
};
const OTHER_CLASSES: Record<number, string> = { 1: 'cell', 2: 'struct', 3: 'object', 5: 'sparse' };

// Data element types (miINT8 ...) and their byte sizes.
const MI_MATRIX = 14;
const MI_COMPRESSED = 15;
const MI_SIZES: Record<number, number> = {
  1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1, 17: 2, 18: 4,
};

/** Column-major linear index of 0-based subscripts `subs` in an array of dims `dims`. */
export function matIndex(dims: readonly number[], subs: readonly number[]): number {
  let index = 0;
  let stride = 1;
  for (let d = 0; d < dims.length; d++) {
    index += (subs[d] ?? 0) * stride;
    stride *= dims[d]!;
  }
  return index;
}

/** Reads every top-level variable of a level-5 MAT-file. Throws FileFormatError on a bad file. */
export function readMat(file: string): Map<string, MatVariable> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new FileFormatError(file, `cannot read MAT-file (${(e as Error).message})`);
  }
  return parseMat(bytes, file);
}

/** Reads one numeric variable; errors name the variables present when `name` is missing. */
export function readMatArray(file: string, name: string): MatArray {
  const vars = readMat(file);
  const v = vars.get(name);
  if (v === undefined) {
    const present = [...vars.keys()].join(', ') || 'none';
    throw new FileFormatError(file, `variable '${name}' is missing (variables present: ${present})`);
  }
  if (v.className === 'unsupported') {
    throw new FileFormatError(file, `variable '${name}' is a ${v.detail} array; expected a numeric array`);
  }
  return v;
}

/** Parses a MAT-file already in memory; `file` is only used in error messages. */
export function parseMat(bytes: Uint8Array, file: string): Map<string, MatVariable> {
  if (bytes.length < 128) {
    throw new FileFormatError(file, `not a MATLAB level-5 MAT-file (only ${bytes.length} bytes, the header alone is 128)`);
  }
  const text = Buffer.from(bytes.subarray(0, 116)).toString('latin1');
  const marker = String.fromCharCode(bytes[126]!, bytes[127]!);
  if (marker !== 'IM' && marker !== 'MI') {
    const hint = text.startsWith('MATLAB 7.3') || text.startsWith('\x89HDF') ? ' (a v7.3 file is HDF5: re-save it with -v7)' : '';
    throw new FileFormatError(file, `not a MATLAB level-5 MAT-file: no endian marker at byte 126${hint}`);
  }
  const little = marker === 'IM';
  const vars = new Map<string, MatVariable>();
  const reader = new ElementReader(bytes, 128, little, file, '');
  while (reader.remaining() > 0) {
    const el = reader.next();
    if (el === null) break;
    let matrix: ElementReader;
    if (el.type === MI_COMPRESSED) {
      let inflated: Buffer;
      try {
        inflated = inflateSync(el.body);
      } catch (e) {
        throw new FileFormatError(file, `compressed element at byte ${el.offset} does not inflate (${(e as Error).message}); the file is truncated or corrupt`);
      }
      const inner = new ElementReader(inflated, 0, little, file, ` (inside the compressed element at byte ${el.offset})`);
      const mel = inner.next();
      if (mel === null || mel.type !== MI_MATRIX) continue;
      matrix = new ElementReader(mel.body, 0, little, file, inner.where);
    } else if (el.type === MI_MATRIX) {
      matrix = new ElementReader(el.body, 0, little, file, ` (in the element at byte ${el.offset})`);
    } else {
      continue; // other top-level elements (e.g. subsystem data) carry no variables
    }
    const v = parseMatrix(matrix);
    vars.set(v.name, v);
  }
  return vars;
}

interface Element {
  readonly type: number;
  readonly body: Uint8Array;
  readonly offset: number;
}

/** Walks tagged data elements in a byte range, handling the small-element format and 8-byte padding. */
class ElementReader {
  private pos: number;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly little: boolean,
    readonly file: string,
    readonly where: string,
  ) {
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  remaining(): number {
    return this.bytes.length - this.pos;
  }

  next(): Element | null {
    const offset = this.pos;
    if (this.remaining() === 0) return null;
    if (this.remaining() < 8) this.truncated(offset, 8);
    const word = this.view.getUint32(offset, this.little);
    if (word >>> 16 !== 0) {
      // Small data element: type in the low 16 bits, size in the high 16, data in the next 4 bytes.
      const size = word >>> 16;
      if (size > 4) throw this.error(`small data element at byte ${offset} declares ${size} bytes (at most 4)`);
      this.pos += 8;
      return { type: word & 0xffff, body: this.bytes.subarray(offset + 4, offset + 4 + size), offset };
    }
    const size = this.view.getUint32(offset + 4, this.little);
    if (this.remaining() - 8 < size) this.truncated(offset, size + 8);
    const body = this.bytes.subarray(offset + 8, offset + 8 + size);
    // Compressed elements are not padded; all others are padded to a multiple of 8 bytes.
    const padded = word === MI_COMPRESSED ? size : Math.ceil(size / 8) * 8;
    this.pos = Math.min(this.bytes.length, offset + 8 + padded);
    return { type: word, body, offset };
  }

  private truncated(offset: number, need: number): never {
    throw this.error(`truncated: the data element at byte ${offset} needs ${need} bytes, only ${this.remaining()} remain`);
  }

  error(detail: string): FileFormatError {
    return new FileFormatError(this.file, detail + this.where);
  }

  /** Decodes a numeric element body to float64 values. */
  numbers(el: Element, what: string): Float64Array {
    const size = MI_SIZES[el.type];
    if (size === undefined) throw this.error(`${what}: unsupported data type ${el.type}`);
    const n = Math.floor(el.body.length / size);
    const v = new DataView(el.body.buffer, el.body.byteOffset, el.body.byteLength);
    const out = new Float64Array(n);
    const le = this.little;
    for (let i = 0; i < n; i++) {
      const o = i * size;
      switch (el.type) {
        case 1: out[i] = v.getInt8(o); break;
        case 2: case 16: out[i] = v.getUint8(o); break;
        case 3: out[i] = v.getInt16(o, le); break;
        case 4: case 17: out[i] = v.getUint16(o, le); break;
        case 5: out[i] = v.getInt32(o, le); break;
        case 6: case 18: out[i] = v.getUint32(o, le); break;
        case 7: out[i] = v.getFloat32(o, le); break;
        case 9: out[i] = v.getFloat64(o, le); break;
        case 12: out[i] = Number(v.getBigInt64(o, le)); break;
        case 13: out[i] = Number(v.getBigUint64(o, le)); break;
      }
    }
    return out;
  }
}

/** Parses the sub-elements of one miMATRIX: flags, dimensions, name, real part. */
function parseMatrix(r: ElementReader): MatVariable {
  const flagsEl = r.next();
  const dimsEl = r.next();
  const nameEl = r.next();
  if (flagsEl === null || dimsEl === null || nameEl === null) {
    throw r.error('array element is missing its flags, dimensions or name');
  }
  const flags = r.numbers(flagsEl, 'array flags');
  const flagWord = flags[0] ?? 0;
  const classCode = flagWord % 256;
  const isLogical = (Math.floor(flagWord / 256) & 0x02) !== 0;
  const isComplex = (Math.floor(flagWord / 256) & 0x08) !== 0;
  const dims = Array.from(r.numbers(dimsEl, 'dimensions'));
  const name = Buffer.from(nameEl.body).toString('latin1');
  const other = OTHER_CLASSES[classCode];
  if (other !== undefined) return { name, className: 'unsupported', detail: other };
  const cls = CLASS_NAMES[classCode];
  if (cls === undefined) return { name, className: 'unsupported', detail: `class-${classCode}` };
  if (isComplex) return { name, className: 'unsupported', detail: 'complex' };
  const realEl = r.next();
  const count = dims.reduce((a, b) => a * b, 1);
  if (realEl === null) {
    if (count === 0) return { name, className: cls, dims, data: new Float64Array(0) };
    throw r.error(`variable '${name}': the real part is missing`);
  }
  const data = r.numbers(realEl, `variable '${name}'`);
  if (data.length !== count) {
    throw r.error(`variable '${name}': dimensions ${dims.join('x')} need ${count} values, the data holds ${data.length}`);
  }
  return { name, className: isLogical ? 'logical' : cls, dims, data };
}

/** Text of a char array (row vector), e.g. a name stored in a MAT-file. */
export function matString(arr: MatArray): string {
  return String.fromCharCode(...arr.data);
}
