// enqueue(): one job per image of the sources, id from path + content hash, so a second call adds only what is
// new. Results go to files under an output folder that every worker can reach, or into Redis (the job's value).
import { join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { InvalidArgumentError } from '../errors.js';
import type { Box } from '../api/estimator.js';
import { formatKey, openQueue, QUEUE_FORMAT } from './connection.js';
import { collectImages, hashFile, jobId, type JobOutput, type PoseJobData, type SourceImage } from './jobs.js';
import { parseQueueUrl, type QueueAddress } from './url.js';

/** BullMQ's name of every job of an hourglass queue. */
export const JOB_NAME = 'pose';

export interface EnqueueOptions {
  /** redis://HOST[:PORT]/NAME */
  readonly queue: string;
  /** Folder of the result files (default 'predictions', made absolute here); ignored with results 'redis'. */
  readonly out?: string;
  /** 'files' (default): JSON files in out; 'redis': the result is kept as the job's return value. */
  readonly results?: 'files' | 'redis';
  /** Also draw the overlay PNG beside each JSON file (files only). Default false. */
  readonly overlay?: boolean;
  readonly flipTest?: boolean;
  readonly box?: Box;
  readonly scales?: readonly number[];
  /** Without a box, the person search's limits (EstimateOptions.maxPeople and minPersonScore). */
  readonly maxPeople?: number;
  readonly minPersonScore?: number;
  /** Tries per job before it goes to the failed set (default 3). */
  readonly attempts?: number;
  /** First retry delay in ms, doubled at each retry (default 2000). */
  readonly backoffMs?: number;
  /** Called as hashing and adding progress. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface EnqueuedJob {
  readonly id: string;
  readonly image: string;
  /** The result file (the one of the job already queued, when not added), or null when results go to Redis. */
  readonly json: string | null;
  /** false when the job was already in the queue (in any state) and nothing was added. */
  readonly added: boolean;
}

export interface EnqueueReport {
  readonly queue: string;
  readonly added: number;
  readonly existing: number;
  readonly jobs: EnqueuedJob[];
}

const CHUNK = 500;
const HASH_CONCURRENCY = 8;

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}

/**
 * The JSON path of a job: out/NAME.json, unless another job already holds that file (two images with the same
 * name), then out/NAME-<8 hex of the id>.json. Claims are kept in Redis so separate enqueue calls agree.
 */
async function claimOutput(client: Redis, addr: QueueAddress, out: string, image: SourceImage, id: string): Promise<string> {
  const key = `${formatKey(addr)}:outputs`;
  for (const name of [image.outputName, `${image.outputName}-${id.slice(4, 12)}`]) {
    const path = join(out, `${name}.json`);
    if ((await client.hsetnx(key, path, id)) === 1 || (await client.hget(key, path)) === id) return path;
  }
  return join(out, `${image.outputName}-${id.slice(4)}.json`);
}

export async function enqueue(sources: readonly string[], options: EnqueueOptions): Promise<EnqueueReport> {
  const addr = parseQueueUrl(options.queue);
  const attempts = options.attempts ?? 3;
  const backoffMs = options.backoffMs ?? 2000;
  if (!Number.isInteger(attempts) || attempts < 1) throw new InvalidArgumentError(`attempts must be a whole number >= 1, got ${attempts}`);
  if (!(backoffMs >= 0)) throw new InvalidArgumentError(`backoff must be >= 0 ms, got ${backoffMs}`);
  const results = options.results ?? 'files';
  const out = resolve(options.out ?? 'predictions');
  const images = collectImages(sources);
  const { queue, client, close: closeQueue } = await openQueue(addr, true);
  try {
    const jobs: EnqueuedJob[] = [];
    for (let start = 0; start < images.length; start += CHUNK) {
      const chunk = images.slice(start, start + CHUNK);
      const hashes = await mapLimit(chunk, HASH_CONCURRENCY, (img) => hashFile(img.path));
      const ids = chunk.map((img, i) => jobId(img.path, hashes[i]));
      const exists = await Promise.all(ids.map((id) => client.exists(queue.toKey(id))));
      const toAdd: { name: string; data: PoseJobData; opts: { jobId: string } & Record<string, unknown> }[] = [];
      for (let i = 0; i < chunk.length; i++) {
        if (exists[i] > 0) {
          const stored = await client.hget(queue.toKey(ids[i]), 'data');
          const output = stored ? (JSON.parse(stored) as PoseJobData).output : undefined;
          jobs.push({ id: ids[i], image: chunk[i].path, json: output?.kind === 'files' ? output.json : null, added: false });
          continue;
        }
        let output: JobOutput = { kind: 'redis' };
        if (results === 'files') {
          const json = await claimOutput(client, addr, out, chunk[i], ids[i]);
          output = { kind: 'files', json, overlay: options.overlay ? json.replace(/\.json$/, '.png') : null };
        }
        const data: PoseJobData = {
          format: QUEUE_FORMAT, image: chunk[i].path, sha256: hashes[i], output, flipTest: options.flipTest ?? true,
          ...(options.box ? { box: options.box } : {}), ...(options.scales ? { scales: options.scales } : {}),
          ...(options.maxPeople !== undefined ? { maxPeople: options.maxPeople } : {}),
          ...(options.minPersonScore !== undefined ? { minPersonScore: options.minPersonScore } : {}),
        };
        toAdd.push({
          name: JOB_NAME, data,
          opts: { jobId: ids[i], attempts, backoff: { type: 'exponential', delay: backoffMs }, removeOnComplete: false, removeOnFail: false },
        });
        jobs.push({ id: ids[i], image: chunk[i].path, json: output.kind === 'files' ? output.json : null, added: true });
      }
      if (toAdd.length > 0) await queue.addBulk(toAdd);
      options.onProgress?.(Math.min(start + CHUNK, images.length), images.length);
    }
    const added = jobs.filter((j) => j.added).length;
    return { queue: addr.display, added, existing: jobs.length - added, jobs };
  } finally {
    await closeQueue();
  }
}
