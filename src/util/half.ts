// IEEE 754 half precision (binary16) conversion for storing weights at half the size. Node 20 has no
// Float16Array, so the bits are packed by hand: round to nearest, ties to even, with subnormals; values beyond
// the half range become ±Infinity (callers check `fitsHalf` first).

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The largest finite half-precision value. */
export const HALF_MAX = 65504;

/** The float16 bit pattern nearest to `value` (as a float32), ties to even. */
export function floatToHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): the significand with its implicit bit, shifted into units of 2^-24.
    const shift = 14 - e;
    if (shift > 24) return sign;
    const full = mant | 0x800000;
    let m = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (m & 1))) m += 1;
    return sign | m;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa moves into the exponent, which is the right result (up to Infinity).
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h += 1;
  return sign | h;
}

/** The value of a float16 bit pattern. */
export function halfBitsToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Packs float32 values as float16 bit patterns. */
export function toHalf(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = floatToHalfBits(values[i]);
  return out;
}

/** Unpacks float16 bit patterns to float32 values. */
export function fromHalf(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfBitsToFloat(bits[i]);
  return out;
}

/**
 * The one rule for what `precision: 'float16'` stores as float16, in checkpoints and TF.js exports alike: kernels
 * (tensors of rank 2 or more, nearly all the bytes) whose values fit the half range. Biases and batch-norm
 * parameters and statistics (rank 1) stay float32.
 */
export function storesAsHalf(shape: readonly number[], values: Float32Array): boolean {
  return shape.length >= 2 && fitsHalf(values);
}

/** True when every value is finite and within the half-precision range (so none becomes Infinity). */
export function fitsHalf(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(Math.abs(v) <= HALF_MAX)) return false;
  }
  return true;
}
