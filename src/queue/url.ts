// Queue addresses: redis://[user:password@]host[:port][/db]/NAME names a Redis server and a queue on it.
import { InvalidArgumentError } from '../errors.js';

export interface QueueAddress {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  /** Redis logical database (default 0). */
  readonly db: number;
  readonly tls: boolean;
  /** The queue's name (BullMQ's; its keys are bull:NAME:*). */
  readonly name: string;
  /** The address without the password, for messages. */
  readonly display: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function parseQueueUrl(spec: string): QueueAddress {
  const usage = `expected redis://HOST[:PORT]/NAME (e.g. redis://127.0.0.1:6379/poses)`;
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new InvalidArgumentError(`--queue '${spec}' is not a URL; ${usage}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new InvalidArgumentError(`--queue '${spec}': scheme must be redis: or rediss:, not ${url.protocol}; ${usage}`);
  }
  if (!url.hostname) throw new InvalidArgumentError(`--queue '${spec}' names no host; ${usage}`);
  if (url.search || url.hash) throw new InvalidArgumentError(`--queue '${spec}': query or fragment not supported; ${usage}`);
  const port = url.port === '' ? 6379 : Number(url.port);
  const parts = url.pathname.split('/').filter((p) => p !== '');
  let db = 0;
  if (parts.length === 2) {
    if (!/^\d+$/.test(parts[0])) throw new InvalidArgumentError(`--queue '${spec}': database '${parts[0]}' must be a number; ${usage}`);
    db = Number(parts[0]);
    parts.shift();
  }
  if (parts.length !== 1) throw new InvalidArgumentError(`--queue '${spec}' names no queue; ${usage}`);
  const name = decodeURIComponent(parts[0]);
  if (!NAME.test(name)) {
    throw new InvalidArgumentError(`--queue '${spec}': queue name '${name}' must be letters, digits, '.', '_' or '-' (at most 100)`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  const display = `${url.protocol}//${url.hostname}:${port}${db ? `/${db}` : ''}/${name}`;
  return { host, port, username, password, db, tls: url.protocol === 'rediss:', name, display };
}
