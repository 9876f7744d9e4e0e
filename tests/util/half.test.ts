// Half precision (src/util/half.ts): decoding checked against the bit layout built another way, encoding
// checked to invert decoding exactly and to round to nearest, ties to even, over every float16 value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HALF_MAX, fitsHalf, floatToHalfBits, fromHalf, halfBitsToFloat, toHalf } from '../../src/util/half.js';

/** A normal or subnormal float16 as float32 bits assembled directly (independent of halfBitsToFloat). */
function reference(bits: number): number {
  const sign = (bits & 0x8000) << 16;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  if (exp === 0x1f) {
    u[0] = sign | 0x7f800000 | (mant << 13);
  } else if (exp === 0) {
    // Subnormal: normalise the mantissa.
    if (mant === 0) {
      u[0] = sign;
    } else {
      let m = mant;
      let e = -14;
      while (!(m & 0x400)) {
        m <<= 1;
        e -= 1;
      }
      u[0] = sign | ((e + 127) << 23) | ((m & 0x3ff) << 13);
    }
  } else {
    u[0] = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  return f[0];
}

test('decoding every float16 bit pattern gives the value its bits describe', () => {
  for (let bits = 0; bits < 0x10000; bits++) {
    const want = reference(bits);
    const got = halfBitsToFloat(bits);
    if (Number.isNaN(want)) assert.ok(Number.isNaN(got), `0x${bits.toString(16)}`);
    else assert.ok(Object.is(got, want), `0x${bits.toString(16)}: ${got} vs ${want}`);
  }
  assert.equal(halfBitsToFloat(0x7bff), HALF_MAX);
  assert.equal(halfBitsToFloat(0x0001), 2 ** -24);
  assert.equal(halfBitsToFloat(0x3c00), 1);
});

test('encoding inverts decoding for every value, and keeps NaN a NaN', () => {
  for (let bits = 0; bits < 0x10000; bits++) {
    const value = halfBitsToFloat(bits);
    if (Number.isNaN(value)) assert.ok(Number.isNaN(halfBitsToFloat(floatToHalfBits(value))));
    else assert.equal(floatToHalfBits(value), bits, `0x${bits.toString(16)}`);
  }
});

test('encoding rounds to the nearest float16, ties to the even one, with subnormals and overflow', () => {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const nextUp = (x: number): number => {
    f[0] = x;
    u[0] += 1;
    return f[0];
  };
  const nextDown = (x: number): number => {
    f[0] = x;
    u[0] -= 1;
    return f[0];
  };
  // Every pair of neighbouring positive float16 values, zero and the largest included.
  for (let bits = 0; bits < 0x7bff; bits++) {
    const a = halfBitsToFloat(bits);
    const b = halfBitsToFloat(bits + 1);
    const mid = (a + b) / 2; // exact in float32: one more bit than float16
    const even = bits % 2 === 0 ? bits : bits + 1;
    assert.equal(floatToHalfBits(mid), even, `tie between 0x${bits.toString(16)} and its successor`);
    assert.equal(floatToHalfBits(nextDown(mid)), bits);
    assert.equal(floatToHalfBits(nextUp(mid)), bits + 1);
    assert.equal(floatToHalfBits(-nextUp(mid)), 0x8000 | (bits + 1), 'the sign is kept');
  }
  assert.equal(floatToHalfBits(65519.99), 0x7bff, 'below the tie above the largest value: the largest value');
  assert.equal(floatToHalfBits(65520), 0x7c00, 'the tie rounds to even, which is Infinity');
  assert.equal(floatToHalfBits(1e6), 0x7c00);
  assert.equal(floatToHalfBits(-1e6), 0xfc00);
  assert.equal(floatToHalfBits(2 ** -26), 0, 'below half the smallest subnormal: zero');
  assert.equal(floatToHalfBits(-(2 ** -30)), 0x8000, 'negative zero');
  assert.equal(floatToHalfBits(Number.POSITIVE_INFINITY), 0x7c00);
});

test('toHalf / fromHalf round trip arrays; fitsHalf refuses what would become Infinity or NaN', () => {
  const values = Float32Array.from([0, 1, -2.5, 0.1, 1e-3, -7e-6, 60000]);
  const back = fromHalf(toHalf(values));
  values.forEach((v, i) => assert.ok(Math.abs(back[i] - v) <= Math.abs(v) * 2 ** -11 + 2 ** -25, `${v} -> ${back[i]}`));
  assert.ok(fitsHalf(values));
  assert.ok(fitsHalf(Float32Array.from([HALF_MAX, -HALF_MAX])));
  assert.ok(!fitsHalf(Float32Array.from([1, 70000])));
  assert.ok(!fitsHalf(Float32Array.from([Number.NaN])));
  assert.ok(!fitsHalf(Float32Array.from([Number.NEGATIVE_INFINITY])));
});
