// Several pose networks run as one (docs/method.md "Inference and evaluation", ensembles): each member sees the same
// crop at its own input size, and their last-stack heatmaps are averaged in the ensemble's heatmap frame. Members may
// differ in input size (e.g. the 128-px and the 256-px LSP-14 models), never in joints.
import { tf } from '../tf.js';
import type { Tensor4D } from '../tf.js';
import { InvalidArgumentError } from '../errors.js';
import { HourglassModel } from '../model/model.js';
import type { HeatmapModel } from './heatmaps.js';

/** What runs a pose model's crops: one network, or an ensemble of them. */
export type PoseNetwork = HourglassModel | Ensemble;

/** At most this many networks in an ensemble (each is a full run per crop). */
export const MAX_MEMBERS = 4;

export class Ensemble implements HeatmapModel {
  /** The largest member input size; heatmaps are a quarter of it. */
  readonly config: { readonly inputSize: number; readonly joints: number };
  private disposed = false;

  /** The ensemble takes ownership of its members: dispose() frees them. */
  constructor(readonly members: readonly HourglassModel[]) {
    if (members.length < 2 || members.length > MAX_MEMBERS) {
      throw new InvalidArgumentError(`an ensemble needs 2 to ${MAX_MEMBERS} networks, got ${members.length}`);
    }
    const joints = members[0].config.joints;
    members.forEach((m, i) => {
      if (m.config.joints !== joints) {
        throw new InvalidArgumentError(`ensemble member ${i + 1} predicts ${m.config.joints} joints, member 1 ${joints}: members must predict the same joints`);
      }
    });
    this.config = { inputSize: Math.max(...members.map((m) => m.config.inputSize)), joints };
  }

  /**
   * images [N, S, S, 3] (S = config.inputSize) -> the members' heatmaps averaged, [N, S/4, S/4, K]. A member with a
   * smaller input sees the crop resampled to its size (bilinear, pixel centres kept: at half size each input pixel
   * is the mean of a 2x2 block); its heatmaps are resampled back the same way, so every heatmap frame maps to the
   * same square of the image.
   */
  predict(images: Tensor4D): Tensor4D {
    if (this.disposed) throw new InvalidArgumentError('the ensemble has been disposed');
    const s = this.config.inputSize;
    const [, h, w, c] = images.shape;
    if (h !== s || w !== s || c !== 3) throw new InvalidArgumentError(`model input must be [N, ${s}, ${s}, 3], got [${images.shape.join(', ')}]`);
    const hm = s / 4;
    return tf.tidy(() => {
      const heatmaps = this.members.map((m) => {
        const size = m.config.inputSize;
        const input = size === s ? images : tf.image.resizeBilinear(images, [size, size], false, true);
        const out = m.predict(input);
        return out.shape[1] === hm ? out : tf.image.resizeBilinear(out, [hm, hm], false, true);
      });
      return tf.div(tf.addN(heatmaps), heatmaps.length) as Tensor4D;
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const m of this.members) m.dispose();
  }
}

/** One line naming a network's size: '4 stacks, 128 features, 128 px', or an ensemble's members joined by ' + '. */
export function describeNetwork(model: PoseNetwork): string {
  if (model instanceof Ensemble) return `ensemble of ${model.members.length}: ${model.members.map((m) => `(${describeNetwork(m)})`).join(' + ')}`;
  const c = model.config;
  return `${c.stacks} stack${c.stacks === 1 ? '' : 's'}, ${c.features} features, ${c.inputSize} px${c.depth !== 4 ? `, depth ${c.depth}` : ''}`;
}
