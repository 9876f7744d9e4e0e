// Predicting every sample of a dataset with a model (crops prepared in worker threads, flip test optional), in image
// pixels and dataset order: what validation during training and `hourglass eval --model` score.
import type { HeatmapModel } from '../inference/heatmaps.js';
import type { Dataset } from '../data/sample.js';
import { flipPermutation } from '../data/skeletons/types.js';
import { createEvalSource } from '../data/batches.js';
import { InvalidArgumentError } from '../errors.js';
import { otherScales } from '../inference/multi-scale.js';
import { predictCrops } from '../inference/crops.js';
import type { Subpixel } from '../codec/heatmap.js';
import { yieldToEventLoop } from '../util/event-loop.js';
import { heatmapSize } from '../model/config.js';

export interface PredictDatasetOptions {
  readonly flipTest: boolean;
  /** Multi-scale test: factors of each person's crop side whose heatmaps are averaged; must include 1. Default [1]. */
  readonly scales?: readonly number[];
  /** How each heatmap's argmax is refined to a sub-pixel position (src/codec/heatmap.ts). Default 'taylor'. */
  readonly subpixel?: Subpixel;
  readonly batchSize?: number;
  readonly workers?: number;
  /** Called after each batch with the number of samples done. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** [N * K * 2] predicted joints in original image pixels, in the dataset's sample order. */
export async function predictDataset(model: HeatmapModel, dataset: Dataset, options: PredictDatasetOptions): Promise<Float32Array> {
  const k = model.config.joints;
  if (dataset.skeleton.joints.length !== k) {
    throw new InvalidArgumentError(`${dataset.name} has ${dataset.skeleton.joints.length} joints, the model predicts ${k}`);
  }
  const flipPerm = flipPermutation(dataset.skeleton);
  const source = createEvalSource({
    inputSize: model.config.inputSize, heatmapSize: heatmapSize(model.config), sigma: 1, joints: k, flipPerm,
    workers: options.workers, datasets: [dataset], batchSize: options.batchSize ?? 16, scales: otherScales(options.scales ?? [1]),
    sizes: model.inputSizes ?? [],
  });
  const predictions = new Float32Array(dataset.samples.length * k * 2);
  let offset = 0;
  try {
    for await (const batch of source) {
      const { points } = await predictCrops(model, batch, options.flipTest ? flipPerm : null, options.subpixel);
      predictions.set(points, offset);
      offset += points.length;
      options.onProgress?.(offset / (2 * k), dataset.samples.length);
      await yieldToEventLoop(); // a training run's Ctrl-C is answered during its validation too
    }
  } finally {
    await source.close();
  }
  return predictions;
}
