// queueStatus(): a queue's counts (waiting, delayed retries, active, done, failed), its throughput over the last
// minute (from the completion times BullMQ keeps), the ETA at that rate, and the failed jobs with their error line.
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { openQueue } from './connection.js';
import type { PoseJobData } from './jobs.js';
import { parseQueueUrl } from './url.js';

export interface QueueCounts {
  /** Waiting to be taken (includes paused and prioritised). */
  readonly waiting: number;
  /** Waiting for a retry after a failed try (backoff). */
  readonly delayed: number;
  readonly active: number;
  readonly done: number;
  readonly failed: number;
}

export interface FailedJob {
  readonly id: string;
  readonly image: string;
  readonly error: string;
  readonly attempts: number;
}

export interface QueueStatus {
  readonly queue: string;
  readonly counts: QueueCounts;
  readonly total: number;
  /** Jobs completed per second over the last THROUGHPUT_WINDOW_S seconds (Redis server time). */
  readonly throughput: number;
  /** Seconds to finish what is left at that throughput; null when nothing is completing. */
  readonly etaSeconds: number | null;
  /** The most recent failed jobs (at most failedLimit). */
  readonly failedJobs: FailedJob[];
}

export const THROUGHPUT_WINDOW_S = 60;

export interface StatusOptions {
  /** How many failed jobs to list (default 10). */
  readonly failedLimit?: number;
}

/**
 * Completions per second in the window. When they started less than a window ago, the rate is over the time since
 * the first of them (plus one mean interval, which stands for the time before it), not the whole window.
 */
async function recentRate(client: Redis, completedKey: string, nowMs: number): Promise<number> {
  const from = nowMs - THROUGHPUT_WINDOW_S * 1000;
  const count = await client.zcount(completedKey, from, '+inf');
  if (count < 2) return count / THROUGHPUT_WINDOW_S;
  const first = Number((await client.zrangebyscore(completedKey, from, '+inf', 'WITHSCORES', 'LIMIT', 0, 1))[1]);
  const last = Number((await client.zrevrangebyscore(completedKey, '+inf', from, 'WITHSCORES', 'LIMIT', 0, 1))[1]);
  const spanS = Math.min(THROUGHPUT_WINDOW_S, (nowMs - first) / 1000 + (last - first) / 1000 / (count - 1));
  return spanS > 0 ? count / spanS : 0;
}

/** A queue's status, read once. */
export async function queueStatus(queueUrl: string, options: StatusOptions = {}): Promise<QueueStatus> {
  const addr = parseQueueUrl(queueUrl);
  const { queue, client, close: closeQueue } = await openQueue(addr, false);
  try {
    const c = await queue.getJobCounts('wait', 'paused', 'prioritized', 'delayed', 'active', 'completed', 'failed');
    const counts: QueueCounts = {
      waiting: (c['wait'] ?? 0) + (c['paused'] ?? 0) + (c['prioritized'] ?? 0),
      delayed: c['delayed'] ?? 0,
      active: c['active'] ?? 0,
      done: c['completed'] ?? 0,
      failed: c['failed'] ?? 0,
    };
    // The completed set is scored by finish time (ms): the jobs finished in the window, by the server's clock.
    const [seconds, micros] = await client.time();
    const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const throughput = await recentRate(client, queue.toKey('completed'), nowMs);
    const left = counts.waiting + counts.delayed + counts.active;
    const etaSeconds = left === 0 ? 0 : throughput > 0 ? left / throughput : null;
    const limit = options.failedLimit ?? 10;
    const failed: Job<PoseJobData>[] = limit > 0 ? await queue.getFailed(0, limit - 1) : [];
    const failedJobs = failed.map((j) => ({ id: String(j.id), image: j.data.image, error: j.failedReason, attempts: j.attemptsMade }));
    const total = counts.waiting + counts.delayed + counts.active + counts.done + counts.failed;
    return { queue: addr.display, counts, total, throughput, etaSeconds, failedJobs };
  } finally {
    await closeQueue();
  }
}
