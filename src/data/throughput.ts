// Images/s of the data pipeline alone (issue "Pipeline": it must deliver >= 3x what training consumes), for
// `hourglass bench` and bench/pipeline.ts: consumes batches of a train source as fast as they come.
import { performance } from 'node:perf_hooks';
import { InvalidArgumentError } from '../errors.js';
import { createTrainSource } from './batches.js';
import type { TrainSourceOptions } from './batches.js';

export interface PipelineThroughput {
  readonly imagesPerSecond: number;
  /** Batches timed (after the warm-up). */
  readonly batches: number;
  readonly seconds: number;
  readonly workers: number;
  readonly inputSize: number;
}

/**
 * Creates a train source, discards `warmup` batches (worker start-up, JIT), times the next `batches`, closes it.
 */
export async function measurePipeline(o: TrainSourceOptions & { readonly workers: number }, batches: number, warmup = 3): Promise<PipelineThroughput> {
  if (!Number.isInteger(batches) || batches < 1) throw new InvalidArgumentError(`batches must be a positive integer, got ${batches}`);
  const source = createTrainSource(o);
  try {
    for (let i = 0; i < warmup; i++) await source.next();
    const t0 = performance.now();
    let images = 0;
    for (let i = 0; i < batches; i++) images += (await source.next()).size;
    const seconds = (performance.now() - t0) / 1000;
    return { imagesPerSecond: images / seconds, batches, seconds, workers: o.workers, inputSize: o.inputSize };
  } finally {
    await source.close();
  }
}
