// Symmetric 8-bit storage of weights, one scale per channel of the last axis (the output channel of an HWIO kernel):
// value ≈ q x scale with q an integer in [-127, 127] and scale = the channel's largest |value| / 127. A quarter of
// float32's bytes; the rounding error of each value is at most half its channel's scale. Scales are float32, so a
// file stores and reads back exactly the numbers the weights were quantised with.

/** Quantises `values` laid out with `channels` as the fastest-varying axis (length a multiple of channels). */
export function quantizeInt8(values: Float32Array, channels: number): { values: Int8Array; scales: Float32Array } {
  if (!(Number.isInteger(channels) && channels > 0 && values.length % channels === 0)) {
    throw new Error(`quantizeInt8: ${values.length} values do not split into ${channels} channels`);
  }
  const scales = new Float32Array(channels);
  for (let i = 0; i < values.length; i++) {
    const c = i % channels;
    scales[c] = Math.max(scales[c], Math.abs(values[i]));
  }
  for (let c = 0; c < channels; c++) scales[c] = Math.fround(scales[c] / 127);
  const q = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const s = scales[i % channels];
    q[i] = s > 0 ? Math.max(-127, Math.min(127, Math.round(values[i] / s))) : 0;
  }
  return { values: q, scales };
}

/** The float32 values of int8 data and its per-channel scales (channels = scales.length, the fastest axis). */
export function dequantizeInt8(values: Int8Array, scales: ArrayLike<number>): Float32Array {
  const channels = scales.length;
  if (channels === 0 || values.length % channels !== 0) throw new Error(`dequantizeInt8: ${values.length} values do not split into ${channels} channels`);
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] * scales[i % channels];
  return out;
}

/** True when every value is finite (what int8 storage needs: the scales come from the largest magnitude). */
export function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}
