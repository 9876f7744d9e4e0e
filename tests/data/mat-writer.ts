// Test-only MATLAB level-5 writer: double arrays, optionally zlib-compressed, to build joints.mat fixtures.
import { deflateSync } from 'node:zlib';

export interface MatVar {
  name: string;
  /** MATLAB dims, e.g. [14, 3, 12]. */
  dims: number[];
  /** Column-major values (MATLAB order), length = product of dims. */
  data: ArrayLike<number>;
}

function element(type: number, body: Buffer, pad = true): Buffer {
  const tag = Buffer.alloc(8);
  tag.writeUInt32LE(type, 0);
  tag.writeUInt32LE(body.length, 4);
  const padding = pad ? (8 - (body.length % 8)) % 8 : 0;
  return Buffer.concat([tag, body, Buffer.alloc(padding)]);
}

function matrix(v: MatVar): Buffer {
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE(6, 0); // mxDOUBLE_CLASS, no flags
  const dims = Buffer.alloc(4 * v.dims.length);
  v.dims.forEach((d, i) => dims.writeInt32LE(d, 4 * i));
  const data = Buffer.alloc(8 * v.data.length);
  for (let i = 0; i < v.data.length; i++) data.writeDoubleLE(v.data[i]!, 8 * i);
  const body = Buffer.concat([
    element(6, flags), // miUINT32
    element(5, dims), // miINT32
    element(1, Buffer.from(v.name, 'latin1')), // miINT8
    element(9, data), // miDOUBLE
  ]);
  return element(14, body); // miMATRIX
}

/** A complete MAT-file (little-endian). `compress` wraps each variable in miCOMPRESSED as MATLAB does. */
export function writeMat(vars: MatVar[], compress = true): Buffer {
  const header = Buffer.alloc(128, ' ');
  header.write('MATLAB 5.0 MAT-file, written by hourglass tests', 0, 'latin1');
  header.fill(0, 116, 124); // no subsystem data
  header.writeUInt16LE(0x0100, 124);
  header.write('IM', 126, 'latin1');
  const parts = vars.map((v) => (compress ? element(15, deflateSync(matrix(v)), false) : matrix(v)));
  return Buffer.concat([header, ...parts]);
}
