// Checkpoints: one self-describing file holding the network config, the named weights (and optionally training
// state such as optimiser slots), and free-form metadata. Written atomically; loading checks every tensor.
//
// Layout: 8-byte magic "HGCKPT01", uint32 LE header length, UTF-8 JSON header, zero padding to a multiple of 8,
// then the little-endian data of each tensor at the header's byte offsets (relative to the data start, each a
// multiple of 4). A tensor's dtype is float32, or for weight matrices saved with a smaller `precision`: float16
// (half the bytes), or int8 (a quarter): its data is one float32 scale per output channel (the last axis), then
// the 8-bit values. All are read back as float32.
// Version 2 (written since) adds integrity: each header entry carries the SHA-256 of its tensor's bytes, and the
// file ends with the 32-byte SHA-256 of the header JSON, so a damaged file is an error naming the file and the
// tensor (or the header) instead of weights that load silently. Version 1 files (no checksums) are still read.
// Every tensor read must be finite, and no file is written with a non-finite value.
import { createHash } from 'node:crypto';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { tf } from '../tf.js';
import type { Tensor } from '../tf.js';
import { CheckpointMismatchError, FileFormatError, NonFiniteError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { fromHalf, storesAsHalf, toHalf } from '../util/half.js';
import { allFinite, dequantizeInt8, quantizeInt8 } from '../util/int8.js';
import { makeConfig, type HourglassConfig } from './config.js';
import { HourglassModel } from './model.js';
import { sameShape, type ParamStore } from './params.js';

const MAGIC = 'HGCKPT01';

export interface StoredTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface Checkpoint {
  readonly config: HourglassConfig;
  /** Network parameters by name (trainable weights and batch-norm running statistics). */
  readonly weights: ReadonlyMap<string, StoredTensor>;
  /** Training state (optimiser slots, ...) by name; empty for a weights-only file. */
  readonly state: ReadonlyMap<string, StoredTensor>;
  /** JSON-serialisable metadata (step, epoch, schedule, RNG state, metrics...). */
  readonly meta: Record<string, unknown>;
}

/** How tensors are stored: float32, or float16 or int8 for the network's weight matrices (see `saveCheckpoint`). */
export type Precision = 'float32' | 'float16' | 'int8';
type StoredDtype = Precision;

const BYTES: Record<StoredDtype, number> = { float32: 4, float16: 2, int8: 1 };

interface HeaderEntry {
  name: string;
  group: 'weights' | 'state';
  shape: number[];
  dtype: StoredDtype;
  offset: number;
  length: number;
  /** Version 2: hex SHA-256 of the tensor's stored bytes. */
  sha256?: string;
}

const VERSION = 2;
const DIGEST_BYTES = 32;

interface Header {
  format: 'hourglass-checkpoint';
  version: 1 | 2;
  config: HourglassConfig;
  meta: Record<string, unknown>;
  tensors: HeaderEntry[];
}

/**
 * Reads tensors' values and writes the checkpoint file atomically. With `precision: 'float16'` the weights'
 * convolution kernels (every tensor of rank 2 or more: nearly all the bytes) are stored as float16 when their
 * values fit its range; with `precision: 'int8'` they are stored as 8-bit integers with a scale per output channel
 * (src/util/int8.ts) when their values are finite. Biases, batch-norm parameters and statistics, and training state
 * stay float32.
 */
export async function saveCheckpoint(
  path: string,
  contents: {
    config: HourglassConfig;
    weights: ReadonlyMap<string, Tensor>;
    state?: ReadonlyMap<string, Tensor>;
    meta?: Record<string, unknown>;
    precision?: Precision;
  },
): Promise<void> {
  const precision = contents.precision ?? 'float32';
  const entries: HeaderEntry[] = [];
  const blobs: Uint8Array[] = [];
  let offset = 0;
  const groups: ['weights' | 'state', ReadonlyMap<string, Tensor>][] = [['weights', contents.weights], ['state', contents.state ?? new Map()]];
  for (const [group, map] of groups) {
    for (const [name, tensor] of map) {
      const data = (await tensor.data()) as Float32Array;
      const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
      const bad = firstNonFinite(f32);
      if (bad >= 0) {
        throw new NonFiniteError(`not writing ${path}: ${group === 'state' ? 'training state' : 'weight'} tensor ${name} holds ${f32[bad]} at element ${bad}`);
      }
      const kernel = group === 'weights' && tensor.shape.length >= 2;
      const entry: HeaderEntry = { name, group, shape: [...tensor.shape], dtype: 'float32', offset, length: f32.length };
      let packed: ArrayBufferView = f32;
      if (kernel && precision === 'float16' && storesAsHalf(tensor.shape, f32)) {
        entry.dtype = 'float16';
        packed = toHalf(f32);
      } else if (kernel && precision === 'int8' && allFinite(f32)) {
        const q = quantizeInt8(f32, tensor.shape[tensor.shape.length - 1]);
        entry.dtype = 'int8';
        packed = Buffer.concat([new Uint8Array(q.scales.buffer), new Uint8Array(q.values.buffer)]);
      }
      const bytes = new Uint8Array(packed.buffer, packed.byteOffset, packed.byteLength);
      entry.sha256 = sha256(bytes);
      entries.push(entry);
      blobs.push(bytes);
      offset += bytes.byteLength;
      // Keep every tensor's data 4-byte aligned after a float16 or int8 tensor.
      const pad = (4 - (bytes.byteLength % 4)) % 4;
      if (pad) {
        blobs.push(new Uint8Array(pad));
        offset += pad;
      }
    }
  }
  const header: Header = { format: 'hourglass-checkpoint', version: VERSION, config: contents.config, meta: contents.meta ?? {}, tensors: entries };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(json.byteLength, 8);
  const padding = Buffer.alloc((8 - ((12 + json.byteLength) % 8)) % 8);
  const headerDigest = createHash('sha256').update(json).digest();
  writeFileAtomic(path, [prefix, json, padding, ...blobs, headerDigest]);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Index of the first NaN or infinite value, or -1. */
function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/** Reads and validates a checkpoint file; errors name the file and what is wrong with it. */
export function readCheckpoint(path: string): Checkpoint {
  if (!existsSync(path)) throw new FileFormatError(path, 'checkpoint file not found');
  if (statSync(path).isDirectory()) throw new FileFormatError(path, 'is a folder; expected a checkpoint file (.ckpt)');
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new FileFormatError(path, `cannot read the checkpoint (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (buf.byteLength < 12 || buf.toString('latin1', 0, 8) !== MAGIC) {
    throw new FileFormatError(path, `not an hourglass checkpoint (expected magic ${MAGIC})`);
  }
  const headerLength = buf.readUInt32LE(8);
  if (12 + headerLength > buf.byteLength) throw new FileFormatError(path, 'truncated header');
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + headerLength)) as Header;
  } catch (err) {
    throw new FileFormatError(path, `header is not valid JSON (${(err as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || header.format !== 'hourglass-checkpoint' ||
      (header.version !== 1 && header.version !== VERSION) || !Array.isArray(header.tensors)) {
    throw new FileFormatError(path, `unsupported checkpoint header (format ${String(header?.format)}, version ${String(header?.version)})`);
  }
  const verified = header.version >= 2;
  let config: HourglassConfig;
  try {
    config = makeConfig(header.config);
  } catch (err) {
    throw new FileFormatError(path, `invalid config: ${(err as Error).message}`);
  }
  const dataStart = 12 + headerLength + ((8 - ((12 + headerLength) % 8)) % 8);
  const weights = new Map<string, StoredTensor>();
  const state = new Map<string, StoredTensor>();
  for (const e of header.tensors) {
    const size = Array.isArray(e.shape) ? e.shape.reduce((a, b) => a * b, 1) : NaN;
    if (!Object.hasOwn(BYTES, e.dtype) || size !== e.length) throw new FileFormatError(path, `tensor ${e.name}: bad entry in header`);
    const start = dataStart + e.offset;
    const channels = e.shape[e.shape.length - 1] ?? 1;
    const byteLength = BYTES[e.dtype] * e.length + (e.dtype === 'int8' ? 4 * channels : 0); // int8: scales first
    if (start + byteLength > buf.byteLength - (verified ? DIGEST_BYTES : 0)) throw new FileFormatError(path, `tensor ${e.name}: data truncated`);
    if (verified && sha256(buf.subarray(start, start + byteLength)) !== e.sha256) {
      throw new FileFormatError(path, `tensor ${e.name}: checksum mismatch (the file is damaged)`);
    }
    // Copy into an aligned buffer (the file buffer's offset need not be aligned).
    const raw = new Uint8Array(byteLength);
    raw.set(buf.subarray(start, start + byteLength));
    let data: Float32Array;
    if (e.dtype === 'int8') {
      const scales = new Float32Array(raw.buffer, 0, channels);
      if (e.shape.length < 2 || !scales.every((v) => v >= 0 && Number.isFinite(v))) {
        throw new FileFormatError(path, `tensor ${e.name}: int8 data needs a kernel (rank 2 or more) and finite scales >= 0`);
      }
      data = dequantizeInt8(new Int8Array(raw.buffer, 4 * channels), scales);
    } else {
      data = e.dtype === 'float16' ? fromHalf(new Uint16Array(raw.buffer)) : new Float32Array(raw.buffer);
    }
    const bad = firstNonFinite(data);
    if (bad >= 0) throw new FileFormatError(path, `tensor ${e.name} holds ${data[bad]} at element ${bad}; the checkpoint is unusable`);
    (e.group === 'state' ? state : weights).set(e.name, { shape: e.shape, data });
  }
  if (verified) {
    const stored = buf.subarray(buf.byteLength - DIGEST_BYTES);
    const actual = createHash('sha256').update(buf.subarray(12, 12 + headerLength)).digest();
    if (!actual.equals(stored)) throw new FileFormatError(path, 'checksum mismatch in the header (the file is damaged)');
  }
  return { config, weights, state, meta: header.meta ?? {} };
}

/**
 * Copies stored weights into a parameter store. Every parameter must be present with the same shape, and the
 * file must hold no extra weights; the first mismatch is named.
 */
export function assignWeights(params: ParamStore, weights: ReadonlyMap<string, StoredTensor>, source = 'checkpoint'): void {
  for (const spec of params.specs) {
    const stored = weights.get(spec.name);
    if (!stored) throw new CheckpointMismatchError(`${source}: tensor ${spec.name} is missing`);
    if (!sameShape(stored.shape, spec.shape)) {
      throw new CheckpointMismatchError(
        `${source}: tensor ${spec.name} has shape [${stored.shape.join(', ')}], the network expects [${spec.shape.join(', ')}]`,
      );
    }
  }
  const known = new Set(params.specs.map((s) => s.name));
  for (const name of weights.keys()) {
    if (!known.has(name)) throw new CheckpointMismatchError(`${source}: tensor ${name} is not a parameter of this network`);
  }
  for (const spec of params.specs) {
    const stored = weights.get(spec.name) as StoredTensor;
    tf.tidy(() => params.update(spec.name, tf.tensor(stored.data, [...stored.shape], 'float32')));
  }
}

/** Saves a model's config and weights (plus optional training state and metadata). */
export async function saveModel(
  path: string,
  model: HourglassModel,
  extra: { state?: ReadonlyMap<string, Tensor>; meta?: Record<string, unknown>; precision?: Precision } = {},
): Promise<void> {
  await saveCheckpoint(path, { config: model.config, weights: model.params.all(), ...extra });
}

/** Builds the network a checkpoint describes and loads its weights (`source` names it in errors). */
export function modelFromCheckpoint(checkpoint: Checkpoint, source: string): HourglassModel {
  const model = HourglassModel.create(checkpoint.config);
  try {
    assignWeights(model.params, checkpoint.weights, source);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}

/** Reads a checkpoint file and builds its network. */
export function loadModel(path: string): { model: HourglassModel; checkpoint: Checkpoint } {
  const checkpoint = readCheckpoint(path);
  return { model: modelFromCheckpoint(checkpoint, path), checkpoint };
}
