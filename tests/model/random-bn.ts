// Shared by the fold, export and checkpoint tests: batch norms with non-trivial statistics, and a scale-relative
// error (of arrays, or of two models' heatmaps on the same random images).
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import type { Tensor4D } from '../../src/tf.js';
import type { HourglassModel } from '../../src/model/model.js';

/** max |a - b| / max |b|. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'output sizes');
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** relativeError of `other`'s predictions against `reference`'s on seeded random images of `shape` [N, S, S, 3]. */
export async function predictionError(reference: HourglassModel, other: HourglassModel, shape: [number, number, number, number], seed: number): Promise<number> {
  const x = tf.randomUniform(shape, 0, 1, 'float32', seed) as Tensor4D;
  const [a, b] = [reference.predict(x), other.predict(x)];
  try {
    return relativeError(await b.data(), await a.data());
  } finally {
    tf.dispose([x, a, b]);
  }
}

/** Gives every batch norm non-trivial running statistics and affine parameters (fresh ones are the identity). */
export function randomiseBatchNorms(model: HourglassModel, seed: number): void {
  tf.tidy(() => {
    for (const spec of model.params.specs) {
      const shape = [...spec.shape];
      const s = seed++;
      if (spec.name.endsWith('.runningMean')) model.params.update(spec.name, tf.randomUniform(shape, -0.5, 0.5, 'float32', s));
      if (spec.name.endsWith('.runningVar')) model.params.update(spec.name, tf.randomUniform(shape, 0.2, 2, 'float32', s));
      if (spec.name.endsWith('.gamma')) model.params.update(spec.name, tf.randomUniform(shape, 0.5, 1.5, 'float32', s));
      if (spec.name.endsWith('.beta')) model.params.update(spec.name, tf.randomUniform(shape, -0.3, 0.3, 'float32', s));
    }
  });
}
