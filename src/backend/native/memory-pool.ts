// Reuse of native kernel outputs' memory: a tensor's Float32Array goes back to a free list (by length) when
// TF.js disposes its data, instead of waiting for V8's GC while new tensors page-fault fresh memory in.
// A buffer is recycled only if it was exactly one tensor's storage and no caller ever read it out (dataSync).
import { totalmem } from 'node:os';

/** Where a pooled buffer stands; buffers of other origins are never tracked. */
type State = 'handed' | 'live' | 'pinned' | 'free';

/** Arrays shorter than this are left to the allocator: page faults only matter for large tensors. */
const MIN_LENGTH = 4096;
/**
 * Most bytes kept in the free lists: half of the machine's memory, at least 4 GiB, or the most bytes of pooled arrays
 * that were ever live at once, whichever is more (HOURGLASS_NATIVE_POOL_MB sets a fixed cap instead). A training step
 * allocates the same sizes every step and releases nearly all of them at its end, so the free lists must hold the
 * step's peak of live tensors or every step page-faults the rest in anew: the paper's network (1 stack, 256 features,
 * 256 px) at batch 16 peaks near 5 GB, and under a 4 GiB cap its steps took 2.3x as long (batch norm, additions and
 * pooling gradients 3-7x, all in fresh pages); the 8-stack LSP-14 network at 256 px peaks near 13 GB, over half of a
 * 24 GB machine, and trained at 2.2 img/s under that cap against 3.4 with a cap above its peak (docs/benchmarks.md).
 * Keeping up to the peak costs no memory the step did not already use. Over the cap, the arrays of the lengths
 * released longest ago go first, so a workload whose sizes change (images of many sizes) keeps only its recent ones.
 */
const BASE_CAP_BYTES = Math.max(4 * 2 ** 30, totalmem() / 2);
const FIXED_CAP_BYTES = process.env.HOURGLASS_NATIVE_POOL_MB !== undefined ? Number(process.env.HOURGLASS_NATIVE_POOL_MB) * 2 ** 20 : null;

export class MemoryPool {
  /** Free arrays by length; the Map's order is that of the lengths' last release, oldest first. */
  private readonly free = new Map<number, Float32Array[]>();
  private readonly state = new WeakMap<ArrayBuffer, State>();
  private freeBytes = 0;
  /** Bytes of the arrays handed out and not yet back (handed or live); their peak raises an adaptive cap. */
  private liveBytes = 0;
  private peakLiveBytes = 0;
  reused = 0;
  allocated = 0;

  /**
   * capBytes: the free lists' cap, raised to the peak of live bytes when `adaptive` (the default), fixed otherwise.
   * Without arguments: BASE_CAP_BYTES, adaptive, or HOURGLASS_NATIVE_POOL_MB's fixed cap.
   */
  constructor(
    private readonly baseCapBytes = FIXED_CAP_BYTES ?? BASE_CAP_BYTES,
    private readonly adaptive = FIXED_CAP_BYTES === null,
  ) {}

  /** The free lists' cap now. */
  get capBytes(): number {
    return this.adaptive ? Math.max(this.baseCapBytes, this.peakLiveBytes) : this.baseCapBytes;
  }

  private handOut(a: Float32Array): void {
    this.state.set(a.buffer as ArrayBuffer, 'handed');
    this.liveBytes += a.byteLength;
    if (this.liveBytes > this.peakLiveBytes) this.peakLiveBytes = this.liveBytes;
  }

  /**
   * A handed or live array leaves the count (released, or pinned: it will not come back); a free one, seen again in
   * a tensor or read out, leaves its free list, so that it is never handed out while that holder has it.
   */
  private leave(buffer: ArrayBuffer): void {
    const s = this.state.get(buffer);
    if (s === 'handed' || s === 'live') this.liveBytes -= buffer.byteLength;
    if (s !== 'free') return;
    const length = buffer.byteLength / 4;
    const list = this.free.get(length) ?? [];
    const i = list.findIndex((a) => a.buffer === buffer);
    if (i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) this.free.delete(length);
    this.freeBytes -= buffer.byteLength;
  }

  /** Never to be recycled: out of the live count and of any free list. */
  private pin(buffer: ArrayBuffer): void {
    this.leave(buffer);
    this.state.set(buffer, 'pinned');
  }

  /** Uninitialised storage of `length` floats, recycled when possible. */
  alloc(length: number): Float32Array {
    if (length < MIN_LENGTH) return fresh(length);
    const list = this.free.get(length);
    const recycled = list?.pop();
    if (list?.length === 0) this.free.delete(length);
    if (recycled) {
      this.freeBytes -= recycled.byteLength;
      this.handOut(recycled);
      this.reused += 1;
      return recycled;
    }
    const a = fresh(length);
    this.handOut(a);
    this.allocated += 1;
    return a;
  }

  /** A tensor now holds `values`: a pooled buffer seen a second time (shared, or a view) is never recycled. */
  registered(values: unknown): void {
    const buffer = pooledBuffer(values);
    if (buffer === null) return;
    const s = this.state.get(buffer);
    const whole = (values as Float32Array).byteOffset === 0 && (values as Float32Array).byteLength === buffer.byteLength;
    if (s === 'handed' && whole) this.state.set(buffer, 'live');
    else this.pin(buffer);
  }

  /** The values left the backend (read by a caller): they may be kept, so never recycle them. */
  exposed(values: unknown): void {
    const buffer = pooledBuffer(values);
    if (buffer !== null && this.state.has(buffer)) this.pin(buffer);
  }

  /** The tensor holding `values` is gone; recycle them if they were its own, unshared and unread. */
  released(values: unknown): void {
    const buffer = pooledBuffer(values);
    if (buffer === null || this.state.get(buffer) !== 'live') return;
    const a = values as Float32Array;
    if (a.byteLength > this.capBytes) {
      this.pin(buffer);
      return;
    }
    this.leave(buffer);
    while (this.freeBytes + a.byteLength > this.capBytes) this.evictOldest();
    this.state.set(buffer, 'free');
    const list = this.free.get(a.length) ?? [];
    this.free.delete(a.length); // re-inserted last: released most recently
    list.push(a);
    this.free.set(a.length, list);
    this.freeBytes += a.byteLength;
  }

  /** Drops the oldest free array of the length released longest ago (the GC reclaims it). */
  private evictOldest(): void {
    const [length, list] = this.free.entries().next().value as [number, Float32Array[]];
    const dropped = list.shift() as Float32Array;
    if (list.length === 0) this.free.delete(length);
    this.freeBytes -= dropped.byteLength;
    this.state.set(dropped.buffer as ArrayBuffer, 'pinned');
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

/** The buffer under a Float32Array when it is large enough to be pooled (a short view of a large one counts). */
function pooledBuffer(values: unknown): ArrayBuffer | null {
  return values instanceof Float32Array && values.buffer.byteLength >= MIN_LENGTH * 4 ? (values.buffer as ArrayBuffer) : null;
}

/** The pool every native kernel allocates its outputs from. */
export const memoryPool = new MemoryPool();
