// Which PCK a dataset is scored with (docs/method.md "Inference and evaluation"): PCK@0.2 with the torso for LSP,
// PCK@0.2 with the annotation's torso size for FLIC, PCKh@0.5 with the head size for MPII; for other skeletons the
// annotation's `normalize` when given, else 0.2 x half the person box (100 * scale). Scores are in image pixels.
import type { Dataset, Sample } from '../data/sample.js';
import { LSP_TORSO } from '../data/skeletons/lsp.js';
import { pck, summarize, type PckSummary } from './pck.js';
import { InvalidArgumentError } from '../errors.js';

export interface Protocol {
  /** 'PCK@0.2', 'PCKh@0.5'. */
  readonly name: string;
  readonly threshold: number;
  readonly inclusive: boolean;
  /** Distance unit per sample, in image pixels (NaN: sample not scored). */
  normalizer(sample: Sample): number;
}

export function protocolFor(dataset: Pick<Dataset, 'skeleton'>): Protocol {
  switch (dataset.skeleton.id) {
    case 'lsp14':
      return {
        name: 'PCK@0.2',
        threshold: 0.2,
        inclusive: true,
        normalizer(s) {
          const [a, b] = LSP_TORSO;
          if (!s.visible[a] || !s.visible[b]) return NaN;
          return Math.hypot(s.joints[2 * a] - s.joints[2 * b], s.joints[2 * a + 1] - s.joints[2 * b + 1]);
        },
      };
    case 'mpii16':
      return { name: 'PCKh@0.5', threshold: 0.5, inclusive: false, normalizer: (s) => s.normalize ?? NaN };
    default:
      return { name: 'PCK@0.2', threshold: 0.2, inclusive: true, normalizer: (s) => s.normalize ?? 100 * s.scale };
  }
}

export interface DatasetScore extends PckSummary {
  readonly protocol: string;
}

/** Scores predictions [N * K * 2] (image pixels, in the dataset's sample order) with the dataset's protocol. */
export function scoreDataset(dataset: Dataset, predictions: ArrayLike<number>): DatasetScore {
  const k = dataset.skeleton.joints.length;
  const n = dataset.samples.length;
  if (predictions.length !== n * k * 2) {
    throw new InvalidArgumentError(`${dataset.name}: ${predictions.length / 2} predicted joints for ${n} samples x ${k} joints`);
  }
  const protocol = protocolFor(dataset);
  const truth = new Float32Array(n * k * 2);
  const labelled = new Uint8Array(n * k);
  const normalizers = new Float64Array(n);
  dataset.samples.forEach((s, i) => {
    truth.set(s.joints, i * k * 2);
    labelled.set(s.visible, i * k);
    normalizers[i] = protocol.normalizer(s);
  });
  const result = pck({ predictions, truth, labelled, normalizers, threshold: protocol.threshold, joints: k, inclusive: protocol.inclusive });
  return { protocol: protocol.name, ...summarize(result, dataset.skeleton) };
}
