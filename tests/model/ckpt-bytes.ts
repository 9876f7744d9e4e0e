// Test helpers that edit checkpoint files at the byte level: re-sign an edited file (so that the reader's deeper
// checks, past the checksums, can be tested), and rewrite a file in the version 1 layout (no checksums).
import { createHash } from 'node:crypto';

interface Entry {
  name: string;
  dtype: string;
  offset: number;
  length: number;
  shape: number[];
  sha256?: string;
}

interface Parsed {
  header: { version: number; tensors: Entry[] } & Record<string, unknown>;
  data: Buffer;
}

const BYTES: Record<string, number> = { float32: 4, float16: 2, int8: 1 };

function parse(bytes: Buffer): Parsed {
  const length = bytes.readUInt32LE(8);
  const header = JSON.parse(bytes.toString('utf8', 12, 12 + length)) as Parsed['header'];
  const dataStart = 12 + length + ((8 - ((12 + length) % 8)) % 8);
  const end = header.version >= 2 ? bytes.length - 32 : bytes.length;
  return { header, data: bytes.subarray(dataStart, end) };
}

function tensorBytes(e: Entry): number {
  const channels = e.shape[e.shape.length - 1] ?? 1;
  return (Object.hasOwn(BYTES, e.dtype) ? BYTES[e.dtype] : 4) * e.length + (e.dtype === 'int8' ? 4 * channels : 0);
}

function assemble(header: Parsed['header'], data: Buffer, digest: boolean): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(12);
  prefix.write('HGCKPT01', 0, 'latin1');
  prefix.writeUInt32LE(json.byteLength, 8);
  const padding = Buffer.alloc((8 - ((12 + json.byteLength) % 8)) % 8);
  const parts = [prefix, json, padding, data];
  if (digest) parts.push(createHash('sha256').update(json).digest());
  return Buffer.concat(parts);
}

/** `bytes` (a version 2 file whose tensor data were edited in place) with every checksum recomputed. */
export function resign(bytes: Buffer): Buffer {
  const { header, data } = parse(bytes);
  for (const e of header.tensors) {
    e.sha256 = createHash('sha256').update(data.subarray(e.offset, e.offset + tensorBytes(e))).digest('hex');
  }
  return assemble(header, data, true);
}

/** `bytes` (a version 2 file whose header JSON was edited) with the header's checksum recomputed. */
export function resignHeader(bytes: Buffer): Buffer {
  const length = bytes.readUInt32LE(8);
  const json = bytes.subarray(12, 12 + length);
  return Buffer.concat([bytes.subarray(0, bytes.length - 32), createHash('sha256').update(json).digest()]);
}

/** The same checkpoint in the version 1 layout: no checksums (files written before they were added). */
export function asVersion1(bytes: Buffer): Buffer {
  const { header, data } = parse(bytes);
  header.version = 1;
  for (const e of header.tensors) delete e.sha256;
  return assemble(header, data, false);
}

/** Byte offset in the file of tensor `name`'s data. */
export function tensorOffset(bytes: Buffer, name: string): number {
  const length = bytes.readUInt32LE(8);
  const { header } = parse(bytes);
  const e = header.tensors.find((t) => t.name === name);
  if (!e) throw new Error(`no tensor ${name}`);
  return 12 + length + ((8 - ((12 + length) % 8)) % 8) + e.offset;
}
