// Seeded pseudo-random numbers (docs/conventions.md "Randomness": an injected seeded generator, never Math.random),
// used by the augmentation of docs/method.md "Data preparation and augmentation". xoshiro128** seeded through
// splitmix32.
import { InvalidArgumentError } from '../errors.js';

/** The whole state of a generator: four unsigned 32-bit words (never all zero). JSON-serialisable. */
export type RngState = readonly [number, number, number, number];

const TWO_32 = 4294967296;

function checkInt(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) throw new InvalidArgumentError(`${what} must be a safe integer, got ${value}`);
}

/** splitmix32 step: returns [next state, output]. Used to expand a seed into a full state. */
function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) | 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [s, z >>> 0];
}

/** murmur3 finaliser (fmix32): a bijective avalanche of 32 bits. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Hashes a list of safe integers (e.g. run seed, epoch, sample position) into a new seed, a non-negative safe
 * integer below 2^53. Different lists (including lists of different lengths) give independent streams.
 */
export function deriveSeed(...values: number[]): number {
  let h1 = 0x243f6a88 ^ values.length;
  let h2 = 0x85a308d3 ^ Math.imul(values.length, 0x9e3779b1);
  for (const v of values) {
    checkInt(v, 'deriveSeed value');
    const lo = v >>> 0; // low 32 bits (two's complement for negatives)
    const hi = Math.floor(v / TWO_32) | 0;
    for (const word of [lo, hi]) {
      h1 = fmix32((h1 ^ word) + 0x9e3779b9);
      h2 = fmix32(Math.imul(h2 ^ word, 0x27d4eb2f) + 0x165667b1);
    }
  }
  h1 = fmix32(h1 ^ h2);
  h2 = fmix32(h2 + h1);
  return (h1 >>> 11) * TWO_32 + h2;
}

/** A seeded generator (xoshiro128**, period 2^128 - 1). */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** seed: any safe integer; equal seeds give equal streams. */
  constructor(seed: number) {
    checkInt(seed, 'seed');
    let st = (seed >>> 0) ^ fmix32(Math.floor(seed / TWO_32) | 0);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(st);
      st = next;
      words.push(out);
    }
    if ((words[0] | words[1] | words[2] | words[3]) === 0) words[0] = 1;
    this.setState([words[0], words[1], words[2], words[3]]);
  }

  /** A generator continuing from a saved state. */
  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.setState(state);
    return rng;
  }

  getState(): RngState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  setState(state: RngState): void {
    if (state.length !== 4 || !state.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_32)) {
      throw new InvalidArgumentError(`rng state must be 4 unsigned 32-bit integers, got [${state.join(', ')}]`);
    }
    if ((state[0] | state[1] | state[2] | state[3]) === 0) throw new InvalidArgumentError('rng state must not be all zero');
    [this.s0, this.s1, this.s2, this.s3] = state;
  }

  /** Next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * (this.nextUint32() / TWO_32);
  }

  /** Standard normal N(0, 1) by Box–Muller (one value per call: the state stays four words). */
  normal(): number {
    const u1 = (this.nextUint32() + 1) / TWO_32; // (0, 1]: log is finite
    const u2 = this.nextUint32() / TWO_32;
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling); 1 <= n <= 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_32) throw new InvalidArgumentError(`int(n) needs an integer 1 <= n <= 2^32, got ${n}`);
    const limit = TWO_32 - (TWO_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T>(array: T[]): T[] {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
