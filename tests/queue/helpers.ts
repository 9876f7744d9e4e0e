// Queue test helpers: a private redis-server on a free loopback port (AOF on, so a restart loses nothing), a tiny
// model, generated images, and `hourglass worker` child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { REPO } from '../data/paths.js';

export const BIN = join(REPO, 'bin', 'hourglass.js');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let reply = '';
    socket.setTimeout(500, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      reply += d.toString();
      if (reply.includes('\r\n')) socket.end();
    });
    socket.on('close', () => resolve(reply.startsWith('+PONG')));
    socket.on('error', () => undefined);
  });
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000, everyMs = 50): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export class RedisServer {
  private child: ChildProcess | null = null;
  private constructor(readonly port: number, readonly dir: string) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), 'hg-redis-')));
    await server.launch();
    return server;
  }

  url(name: string): string {
    return `redis://127.0.0.1:${this.port}/${name}`;
  }

  private async launch(): Promise<void> {
    // AOF on (fsync every second; a SIGTERM'd server flushes it first): what docs/queue.md asks of a Redis for the
    // queue.
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes',
      '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
    const failed = new Promise<never>((_, reject) => child.on('error', (err) => reject(new Error(`cannot start redis-server (apt-get install redis-server): ${err.message}`))));
    failed.catch(() => undefined);
    this.child = child;
    await Promise.race([waitFor(`redis-server on port ${this.port}`, () => ping(this.port), 10_000), failed]);
  }

  /** Stops the server (SIGTERM: it flushes its AOF) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    this.child = null;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  async restart(downMs: number): Promise<void> {
    await this.stop();
    await new Promise((r) => setTimeout(r, downMs));
    await this.launch();
  }
}

/** A 1-stack, 8-feature, 64 px LSP-14 checkpoint: fast on the cpu backend. */

/** n distinct small PNG images (plain colours of different shades and sizes) in dir; their paths. */
export async function makeImages(dir: string, n: number, prefix = 'img'): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const path = join(dir, `${prefix}${String(i).padStart(4, '0')}.png`);
    const background = { r: i % 256, g: (i * 7) % 256, b: (i * 13) % 256 };
    await sharp({ create: { width: 40 + (i % 5), height: 48, channels: 3, background } }).png().toFile(path);
    paths.push(path);
  }
  return paths;
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** stderr so far. */
  stderr(): string;
  /** Images this worker reported done (the lines 'IMAGE: N ms -> JSON'). */
  done(): string[];
  readonly exited: Promise<number | null>;
}

export function spawnWorker(args: readonly string[]): WorkerProcess {
  const child = spawn(process.execPath, [BIN, 'worker', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    text += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    stderr: () => text,
    done: () => [...text.matchAll(/^(.*): \d+ ms -> /gm)].map((m) => m[1]),
    exited,
  };
}
