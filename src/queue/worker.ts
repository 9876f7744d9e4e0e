// runWorker(): takes jobs from a queue, estimates each image's pose with the same code as `predict`
// (src/api/prediction.ts), writes the result atomically and only then acknowledges the job (BullMQ marks it
// completed when the processor returns). A job whose worker dies is taken again once its lock expires.
import type { Job, Worker } from 'bullmq';
import { HourglassError, InvalidArgumentError } from '../errors.js';
import { createEstimator, type Estimator } from '../api/estimator.js';
import { predictImage, predictionResult, writePrediction, type PredictResult } from '../api/prediction.js';
import type { BackendName } from '../backend/select.js';
import { openQueue, QUEUE_FORMAT, redisOptions } from './connection.js';
import type { PoseJobData } from './jobs.js';
import { parseQueueUrl } from './url.js';

export interface WorkerOptions {
  /** redis://HOST[:PORT]/NAME */
  readonly queue: string;
  /** Checkpoint path or bundled model name (default: the bundled LSP-14 model). */
  readonly model?: string;
  readonly backend?: BackendName | 'auto';
  /** Jobs in progress at once in this process (default 1). */
  readonly concurrency?: number;
  /**
   * Seconds a job stays locked to this worker without renewal (renewed every half of it while the worker lives);
   * after a crash the job is taken again within about twice this. Default 30.
   */
  readonly lockSeconds?: number;
  /** Stop once the queue has nothing waiting, delayed or active (default: run until closed). */
  readonly untilEmpty?: boolean;
  /** Called for each finished try of a job and for connection trouble (for logs). */
  readonly onEvent?: (event: WorkerEvent) => void;
}

/** A job done ('ms': decoding, estimating and writing it), a try failed, or the connection had trouble. */
export type WorkerEvent =
  | { readonly kind: 'done'; readonly id: string; readonly image: string; readonly ms: number; readonly json: string | null }
  | { readonly kind: 'failed'; readonly id: string; readonly image: string; readonly error: string; readonly attempt: number; readonly attempts: number; readonly final: boolean }
  | { readonly kind: 'connection'; readonly error: string };

export interface WorkerStats {
  /** Jobs this worker completed. */
  readonly done: number;
  /** Tries that failed in this worker (retried or not). */
  readonly failed: number;
}

export interface RunningWorker {
  /** The TF.js backend the estimator runs on. */
  readonly backend: string;
  readonly estimator: Estimator;
  /** Resolves when the worker has stopped (closed, or the queue is empty with untilEmpty). */
  readonly stopped: Promise<WorkerStats>;
  /**
   * Stops taking jobs and waits for the current ones to finish and be acknowledged; force: do not wait for them
   * (they are taken again by another worker once their locks expire). A close already under way is not sped up.
   */
  close(force?: boolean): Promise<WorkerStats>;
}

/** A processor result stored in Redis: where the JSON went, or the whole result with results 'redis'. */
export type JobResult = { readonly json: string } | PredictResult;

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0];
}

export async function runWorker(options: WorkerOptions): Promise<RunningWorker> {
  const addr = parseQueueUrl(options.queue);
  const concurrency = options.concurrency ?? 1;
  const lockSeconds = options.lockSeconds ?? 30;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new InvalidArgumentError(`concurrency must be a whole number >= 1, got ${concurrency}`);
  if (!(lockSeconds >= 1)) throw new InvalidArgumentError(`lock time must be at least 1 s, got ${lockSeconds}`);
  const emit = options.onEvent ?? (() => undefined);
  // A bad address fails fast (the probe); after that, every connection of a worker reconnects for ever.
  const { queue, close: closeQueue } = await openQueue(addr, true, 'worker');
  let estimator: Estimator | null = null;
  let worker: Worker | null = null;
  let stats = { done: 0, failed: 0 };
  try {
    estimator = await createEstimator({ model: options.model, backend: options.backend ?? 'auto' });
    const est = estimator;
    const { Worker: BullWorker, UnrecoverableError } = await import('bullmq');
    const processor = async (job: Job<PoseJobData, JobResult>): Promise<JobResult> => {
      const data = job.data;
      if (data.format !== QUEUE_FORMAT) throw new UnrecoverableError(`job ${job.id} has queue format ${data.format}; this worker reads format ${QUEUE_FORMAT}`);
      try {
        const started = performance.now();
        const p = await predictImage(est, data.image, {
          box: data.box, flipTest: data.flipTest, scales: data.scales, maxPeople: data.maxPeople, minPersonScore: data.minPersonScore,
        });
        let result: JobResult;
        if (data.output.kind === 'files') {
          const written = await writePrediction(est, p, data.output.json, data.output.overlay);
          result = { json: written.json ?? data.output.json };
        } else {
          result = predictionResult(p, null, null);
        }
        const ms = performance.now() - started;
        emit({ kind: 'done', id: String(job.id), image: data.image, ms, json: data.output.kind === 'files' ? data.output.json : null });
        return result;
      } catch (err) {
        // One line in the failed set; bugs (non-HourglassError) keep their class name so they stand out.
        throw new Error(err instanceof HourglassError ? firstLine(err) : `${err instanceof Error ? err.name : 'Error'}: ${firstLine(err)}`);
      }
    };
    const lockDuration = Math.round(lockSeconds * 1000);
    worker = new BullWorker<PoseJobData, JobResult>(addr.name, processor, {
      connection: redisOptions(addr, 'worker'),
      concurrency,
      lockDuration,
      stalledInterval: lockDuration,
      maxStalledCount: 2,
      autorun: false,
    });
  } catch (err) {
    estimator?.dispose();
    await closeQueue();
    throw err;
  }
  const w = worker;
  const est = estimator;
  let lastConnectionError = '';
  w.on('error', (err) => {
    const line = firstLine(err);
    if (line !== lastConnectionError) emit({ kind: 'connection', error: line });
    lastConnectionError = line;
  });
  w.on('completed', () => {
    stats = { ...stats, done: stats.done + 1 };
    lastConnectionError = '';
  });
  w.on('failed', (job, err) => {
    stats = { ...stats, failed: stats.failed + 1 };
    if (!job) return;
    const attempts = job.opts.attempts ?? 1;
    const final = job.attemptsMade >= attempts || job.finishedOn !== undefined;
    emit({ kind: 'failed', id: String(job.id), image: job.data.image, error: err.message, attempt: job.attemptsMade, attempts, final });
  });

  let closing: Promise<WorkerStats> | null = null;
  let emptyTimer: NodeJS.Timeout | null = null;
  const close = (force = false): Promise<WorkerStats> => {
    if (closing) return closing;
    if (emptyTimer) clearInterval(emptyTimer);
    closing = (async () => {
      await w.close(force);
      await closeQueue();
      est.dispose();
      return stats;
    })();
    return closing;
  };
  if (options.untilEmpty) {
    let checking = false;
    emptyTimer = setInterval(() => {
      if (checking) return;
      checking = true;
      queue
        .getJobCounts('wait', 'active', 'delayed', 'prioritized', 'paused')
        .then((c) => {
          if (Object.values(c).every((n) => n === 0)) void close();
        })
        .catch(() => undefined)
        .finally(() => {
          checking = false;
        });
    }, 500);
  }
  const running = w.run();
  const stopped = running.then(
    () => closing ?? close(),
    async (err: unknown) => {
      await close(true);
      throw err;
    },
  );
  return { backend: est.backend, estimator: est, stopped, close };
}
