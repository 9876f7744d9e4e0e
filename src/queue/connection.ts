// Redis connections for the queue: a quick probe with timeouts (so a wrong address fails in seconds with one
// line, never hangs), the connection options of short commands and of long-running workers, and the queue's
// format record (bull:NAME:hourglass), which keeps a queue from being used by an incompatible hourglass.
import { readFileSync } from 'node:fs';
import type { Queue } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { QueueError } from '../errors.js';
import type { QueueAddress } from './url.js';

/** Version of the job data layout; a queue holding jobs of another layout is refused. */
export const QUEUE_FORMAT = 1;

/** This package's version, recorded in the queues it creates. */
export const HOURGLASS_VERSION: string = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Seconds a command (enqueue, status) waits for Redis before giving up. */
const CONNECT_TIMEOUT_MS = 5000;

export type ConnectionUse = 'command' | 'worker';

/**
 * ioredis options. Commands give up after a few reconnection attempts; workers reconnect for ever (a restarted
 * Redis is waited for) with BullMQ's required maxRetriesPerRequest null.
 */
export function redisOptions(addr: QueueAddress, use: ConnectionUse): RedisOptions {
  const base: RedisOptions = {
    host: addr.host,
    port: addr.port,
    username: addr.username,
    password: addr.password,
    db: addr.db,
    tls: addr.tls ? {} : undefined,
    connectTimeout: CONNECT_TIMEOUT_MS,
  };
  if (use === 'worker') return { ...base, maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(100 * times, 2000) };
  return { ...base, maxRetriesPerRequest: 2, commandTimeout: 20_000, retryStrategy: (times: number) => (times > 3 ? null : 250 * times) };
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e.code === 'ECONNREFUSED') return 'connection refused';
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return 'unknown host';
  if (e.code === 'ETIMEDOUT') return 'connection timed out';
  return (e.message ?? String(err)).split('\n')[0];
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new QueueError(what)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Connects once, without retries, checks the server answers as Redis and the queue's format record (see
 * checkQueueFormat); throws QueueError naming the address. Runs before BullMQ touches the queue's keys.
 */
export async function probeRedis(addr: QueueAddress, create: boolean): Promise<void> {
  const { Redis } = await import('ioredis');
  const client: Redis = new Redis({ ...redisOptions(addr, 'command'), lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  let socketError: unknown = null; // the cause (ECONNREFUSED...) behind ioredis' 'Connection is closed'
  client.on('error', (err: unknown) => {
    socketError = err;
  });
  const where = `Redis at ${addr.host}:${addr.port}`;
  try {
    let tcp = false;
    client.once('connect', () => {
      tcp = true;
    });
    await withTimeout(client.connect(), CONNECT_TIMEOUT_MS, '').catch((err: unknown) => {
      if (!(err instanceof QueueError)) throw err;
      throw new QueueError(tcp
        ? `${where} accepts connections but does not answer within ${CONNECT_TIMEOUT_MS / 1000} s: is it a Redis server?`
        : `cannot reach ${where}: no connection within ${CONNECT_TIMEOUT_MS / 1000} s`);
    });
    const pong = await withTimeout(client.ping(), CONNECT_TIMEOUT_MS, `${where} does not answer PING within ${CONNECT_TIMEOUT_MS / 1000} s: is it a Redis server?`);
    if (pong !== 'PONG') throw new QueueError(`${where} answered PING with '${String(pong).slice(0, 40)}': not a Redis server`);
    const info = await withTimeout(client.info('server'), CONNECT_TIMEOUT_MS, `${where} does not answer INFO`);
    const version = /redis_version:(\d+)\./.exec(info);
    if (version && Number(version[1]) < 5) throw new QueueError(`${where} runs Redis ${version[1]}; the queue needs Redis 5 or newer`);
    await withTimeout(checkQueueFormat(client, addr, create), CONNECT_TIMEOUT_MS, `${where} does not answer`);
  } catch (err) {
    if (err instanceof QueueError) throw err;
    throw new QueueError(`cannot reach ${where}: ${describe(socketError ?? err)}`);
  } finally {
    client.disconnect();
  }
}

/** The key of the queue's format record. */
export function formatKey(addr: QueueAddress): string {
  return `bull:${addr.name}:hourglass`;
}

/**
 * Checks the queue was made by a compatible hourglass. With create, a queue that does not exist yet gets this
 * version's record; without it, a missing queue is an error (status of a name that was never used).
 */
async function checkQueueFormat(client: Redis, addr: QueueAddress, create: boolean): Promise<void> {
  const key = formatKey(addr);
  const record = await client.hgetall(key);
  if (record['format'] === undefined) {
    const bullKeys = await client.exists(`bull:${addr.name}:meta`, `bull:${addr.name}:id`);
    if (bullKeys > 0) throw new QueueError(`queue '${addr.name}' at ${addr.display} exists but was not made by hourglass (no ${key} record); use another queue name`);
    if (!create) throw new QueueError(`no queue '${addr.name}' at ${addr.display} (nothing was enqueued there)`);
    await client.hsetnx(key, 'format', String(QUEUE_FORMAT));
    await client.hsetnx(key, 'version', HOURGLASS_VERSION);
    return checkQueueFormat(client, addr, false);
  }
  if (record['format'] !== String(QUEUE_FORMAT)) {
    throw new QueueError(
      `queue '${addr.name}' at ${addr.display} was made by hourglass ${record['version'] ?? '?'} (queue format ${record['format']}); ` +
        `this is hourglass ${HOURGLASS_VERSION} (format ${QUEUE_FORMAT}): use that version or another queue name`,
    );
  }
}

/**
 * Probes the server and checks the queue's format (create: record it for a new queue; else a missing queue is an
 * error), then opens the BullMQ queue and a Redis client of our own for the commands BullMQ does not wrap (both
 * with the options of `use`: a worker's reconnect for ever). close() closes both.
 */
export async function openQueue(addr: QueueAddress, create: boolean, use: ConnectionUse = 'command'): Promise<{ queue: Queue; client: Redis; close(): Promise<void> }> {
  await probeRedis(addr, create);
  const [{ Queue }, { Redis }] = await Promise.all([import('bullmq'), import('ioredis')]);
  const queue = new Queue(addr.name, { connection: redisOptions(addr, use) });
  queue.on('error', () => undefined); // commands report their own failures
  const client = new Redis(redisOptions(addr, use));
  client.on('error', () => undefined);
  const close = async (): Promise<void> => {
    client.disconnect();
    await queue.close();
  };
  return { queue, client, close };
}
