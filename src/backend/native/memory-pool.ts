// Reuse of native kernel outputs' memory: a tensor's Float32Array goes back to a free list (by length) when
// TF.js disposes its data, instead of waiting for V8's GC while new tensors page-fault fresh memory in.
// A buffer is recycled only if it was exactly one tensor's storage and no caller ever read it out (dataSync).

/** Where a pooled buffer stands; buffers of other origins are never tracked. */
type State = 'handed' | 'live' | 'pinned' | 'free';

/** Arrays shorter than this are left to the allocator: page faults only matter for large tensors. */
const MIN_LENGTH = 4096;
/**
 * Most bytes kept in the free lists; beyond that released arrays are left to the GC. A training step allocates the
 * same sizes every step, so the pool settles near the step's peak of live tensors (HOURGLASS_NATIVE_POOL_MB overrides).
 */
const DEFAULT_CAP_BYTES = Number(process.env.HOURGLASS_NATIVE_POOL_MB ?? 4096) * 2 ** 20;

export class MemoryPool {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly state = new WeakMap<ArrayBuffer, State>();
  private freeBytes = 0;
  reused = 0;
  allocated = 0;

  constructor(private readonly capBytes = DEFAULT_CAP_BYTES) {}

  /** Uninitialised storage of `length` floats, recycled when possible. */
  alloc(length: number): Float32Array {
    if (length < MIN_LENGTH) return fresh(length);
    const list = this.free.get(length);
    const recycled = list?.pop();
    if (recycled) {
      this.freeBytes -= recycled.byteLength;
      this.state.set(recycled.buffer as ArrayBuffer, 'handed');
      this.reused += 1;
      return recycled;
    }
    const a = fresh(length);
    this.state.set(a.buffer as ArrayBuffer, 'handed');
    this.allocated += 1;
    return a;
  }

  /** A tensor now holds `values`: a pooled buffer seen a second time (shared, or a view) is never recycled. */
  registered(values: unknown): void {
    const buffer = pooledBuffer(values);
    if (buffer === null) return;
    const s = this.state.get(buffer);
    const whole = (values as Float32Array).byteOffset === 0 && (values as Float32Array).byteLength === buffer.byteLength;
    this.state.set(buffer, s === 'handed' && whole ? 'live' : 'pinned');
  }

  /** The values left the backend (read by a caller): they may be kept, so never recycle them. */
  exposed(values: unknown): void {
    const buffer = pooledBuffer(values);
    if (buffer !== null && this.state.has(buffer)) this.state.set(buffer, 'pinned');
  }

  /** The tensor holding `values` is gone; recycle them if they were its own, unshared and unread. */
  released(values: unknown): void {
    const buffer = pooledBuffer(values);
    if (buffer === null || this.state.get(buffer) !== 'live') return;
    const a = values as Float32Array;
    if (this.freeBytes + a.byteLength > this.capBytes) {
      this.state.set(buffer, 'pinned');
      return;
    }
    this.state.set(buffer, 'free');
    const list = this.free.get(a.length);
    if (list) list.push(a);
    else this.free.set(a.length, [a]);
    this.freeBytes += a.byteLength;
  }

  /** Drops every free array (the GC reclaims them). */
  clear(): void {
    this.free.clear();
    this.freeBytes = 0;
  }
}

function fresh(length: number): Float32Array {
  // allocUnsafeSlow gives a fresh, unpooled, 8-byte aligned ArrayBuffer without the memset of new Float32Array.
  const bytes = Buffer.allocUnsafeSlow(Math.max(length, 1) * 4);
  return new Float32Array(bytes.buffer, bytes.byteOffset, length);
}

function pooledBuffer(values: unknown): ArrayBuffer | null {
  return values instanceof Float32Array && values.length >= MIN_LENGTH ? (values.buffer as ArrayBuffer) : null;
}

/** The pool every native kernel allocates its outputs from. */
export const memoryPool = new MemoryPool();
