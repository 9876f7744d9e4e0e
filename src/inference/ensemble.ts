// Several pose networks run as one (docs/evaluation.md, its Ensembles paragraph): each member sees the same square of
// the image at its own input size, and their last-stack heatmaps are averaged in the ensemble's heatmap frame. Members
// may differ in input size (e.g. the 128-px and the 256-px LSP-14 models), never in joints.
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
  /** The members' other input sizes, largest first: the crop pipelines make the same crops at these (predictSized). */
  readonly inputSizes: readonly number[];
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
    const sizes = [...new Set(members.map((m) => m.config.inputSize))].sort((a, b) => b - a);
    this.config = { inputSize: sizes[0], joints };
    this.inputSizes = sizes.slice(1);
  }

  /**
   * images [N, S, S, 3] (S = config.inputSize) -> the members' heatmaps averaged, [N, S/4, S/4, K]. A member with a
   * smaller input sees the crop resampled to its size (bilinear, pixel centres kept: at half size each input pixel
   * is the mean of a 2x2 block). predictSized, given the crops made at each size, is what the crop pipelines use.
   */
  predict(images: Tensor4D): Tensor4D {
    this.check(images, this.config.inputSize);
    return tf.tidy(() => this.average((size) => (size === this.config.inputSize ? images : tf.image.resizeBilinear(images, [size, size], false, true))));
  }

  /**
   * The same crops made at [config.inputSize, ...inputSizes] -> the members' heatmaps averaged, each member reading
   * the crop of its own size (as its training crops were made), [N, S/4, S/4, K].
   */
  predictSized(images: readonly Tensor4D[]): Tensor4D {
    const sizes = [this.config.inputSize, ...this.inputSizes];
    if (images.length !== sizes.length) throw new InvalidArgumentError(`the ensemble reads crops at ${sizes.join(', ')} px, got ${images.length} inputs`);
    images.forEach((x, i) => this.check(x, sizes[i]));
    return tf.tidy(() => this.average((size) => images[sizes.indexOf(size)]));
  }

  private check(images: Tensor4D, s: number): void {
    if (this.disposed) throw new InvalidArgumentError('the ensemble has been disposed');
    const [, h, w, c] = images.shape;
    if (h !== s || w !== s || c !== 3) throw new InvalidArgumentError(`model input must be [N, ${s}, ${s}, 3], got [${images.shape.join(', ')}]`);
  }

  /** The members' heatmaps of their inputs, resampled into the largest member's heatmap frame and averaged. */
  private average(inputOf: (size: number) => Tensor4D): Tensor4D {
    const hm = this.config.inputSize / 4;
    const heatmaps = this.members.map((m) => {
      const out = m.predict(inputOf(m.config.inputSize));
      return out.shape[1] === hm ? out : tf.image.resizeBilinear(out, [hm, hm], false, true);
    });
    return tf.div(tf.addN(heatmaps), heatmaps.length) as Tensor4D;
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
