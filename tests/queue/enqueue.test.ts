// `hourglass enqueue` / enqueue() and `hourglass status` against a private redis-server: idempotent job ids (path +
// content), sources (folders, manifests), output names, and bad input: unreachable or silent servers, wrong URLs,
// queues of another version or not made by hourglass, each one line and a non-zero exit within seconds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { enqueue } from '../../src/queue/enqueue.js';
import { queueStatus } from '../../src/queue/status.js';
import { QueueError } from '../../src/errors.js';
import { main } from '../../src/cli/main.js';
import { captureIo } from '../cli/capture.js';
import { freePort, makeImages, RedisServer } from './helpers.js';

let redis: RedisServer;
let dir: string;
before(async () => {
  redis = await RedisServer.start();
  dir = mkdtempSync(join(tmpdir(), 'hg-enqueue-'));
});
after(async () => {
  await redis.stop();
});

test('enqueuing the same images twice adds nothing the second time; a changed file is a new job', async () => {
  const images = await makeImages(join(dir, 'a', 'sub'), 3);
  copyFileSync(images[0], join(dir, 'a', 'top.png'));
  const queue = redis.url('idem');
  const out = join(dir, 'out');
  const first = await enqueue([join(dir, 'a')], { queue, out });
  assert.equal(first.added, 4);
  assert.equal(first.existing, 0);
  // Folder sources keep their sub-folders in the output names.
  assert.deepEqual(first.jobs.map((j) => j.json), [join(out, 'sub', 'img0000.json'), join(out, 'sub', 'img0001.json'), join(out, 'sub', 'img0002.json'), join(out, 'top.json')]);
  // Same content, other path: another job.
  assert.equal(new Set(first.jobs.map((j) => j.id)).size, 4);
  const second = await enqueue([join(dir, 'a'), images[1]], { queue, out });
  assert.deepEqual([second.added, second.existing], [0, 4]);
  assert.deepEqual(second.jobs.map((j) => j.id), first.jobs.map((j) => j.id));
  assert.deepEqual(second.jobs.map((j) => j.json), first.jobs.map((j) => j.json));
  // New content at the same path: a new job, whose output file is not the old job's.
  writeFileSync(images[2], Buffer.from(await (await import('sharp')).default({ create: { width: 9, height: 9, channels: 3, background: 'red' } }).png().toBuffer()));
  const third = await enqueue([join(dir, 'a')], { queue, out });
  assert.deepEqual([third.added, third.existing], [1, 3]);
  const changed = third.jobs.find((j) => j.added);
  assert.equal(changed?.image, images[2]);
  assert.match(changed?.json ?? '', /sub\/img0002-[0-9a-f]{8}\.json$/);
  const status = await queueStatus(queue);
  assert.deepEqual(status.counts, { waiting: 5, delayed: 0, active: 0, done: 0, failed: 0 });
  assert.equal(status.total, 5);
  assert.equal(status.etaSeconds, null, 'nothing completing yet: no ETA');
});

test('a manifest lists images relative to itself; images with the same name get distinct outputs', async () => {
  const x = await makeImages(join(dir, 'm', 'x'), 2);
  await makeImages(join(dir, 'm', 'y'), 1);
  writeFileSync(join(dir, 'm', 'list.txt'), `# two folders\nx/img0000.png\n\ny/img0000.png\n${x[1]}\n`);
  const report = await enqueue([join(dir, 'm', 'list.txt')], { queue: redis.url('manifest'), out: join(dir, 'mout') });
  assert.equal(report.added, 3);
  const names = report.jobs.map((j) => j.json?.slice(join(dir, 'mout').length + 1));
  assert.equal(names[0], 'img0000.json');
  assert.match(names[1] ?? '', /^img0000-[0-9a-f]{8}\.json$/);
  assert.equal(names[2], 'img0001.json');
  writeFileSync(join(dir, 'm', 'bad.txt'), 'x/img0000.png\nx/missing.png\n');
  await assert.rejects(enqueue([join(dir, 'm', 'bad.txt')], { queue: redis.url('manifest2') }), /bad\.txt: line 2: no such image file 'x\/missing\.png'/);
});

test('the CLI: enqueue and status print one summary line; --json; a missing source is an error before anything is added', async () => {
  mkdirSync(join(dir, 'c'));
  await makeImages(join(dir, 'c'), 2);
  let io = captureIo();
  assert.equal(await main(['enqueue', join(dir, 'c'), '--queue', redis.url('cli'), '--out', join(dir, 'cout'), '--json'], io), 0, io.errors.join('\n'));
  assert.match(io.errors.join('\n'), /redis:\/\/127\.0\.0\.1:\d+\/cli: added 2 jobs, 0 already queued/);
  assert.equal((JSON.parse(io.lines[0]) as { added: number }).added, 2);
  io = captureIo();
  assert.equal(await main(['enqueue', join(dir, 'c'), join(dir, 'nope.jpg'), '--queue', redis.url('cli')], io), 2);
  assert.deepEqual(io.errors, [`error: ${join(dir, 'nope.jpg')}: no such file or folder`]);
  io = captureIo();
  assert.equal(await main(['status', '--queue', redis.url('cli')], io), 0);
  assert.match(io.lines[0], /cli: 2 waiting, 0 retrying, 0 active, 0 done, 0 failed; 0\.0 img\/s, ETA \?/);
  io = captureIo();
  assert.equal(await main(['status', '--queue', redis.url('cli'), '--json'], io), 0);
  assert.deepEqual((JSON.parse(io.lines[0]) as { counts: object }).counts, { waiting: 2, delayed: 0, active: 0, done: 0, failed: 0 });
  io = captureIo();
  assert.equal(await main(['enqueue', join(dir, 'c'), '--queue', redis.url('cli'), '--results', 'redis', '--out', 'x'], io), 2);
  assert.match(io.errors[0], /--out and --overlay write files/);
});

async function oneLineError(args: string[], message: RegExp, withinMs: number): Promise<void> {
  const io = captureIo();
  const started = Date.now();
  assert.equal(await main(args, io), 2, io.errors.join('\n'));
  assert.equal(io.errors.length, 1, io.errors.join('\n'));
  assert.match(io.errors[0], message);
  assert.ok(Date.now() - started < withinMs, `${args[0]} took ${Date.now() - started} ms`);
}

test('an unreachable Redis, a silent server and a wrong URL: one line, exit 2, no hang', async () => {
  const images = join(dir, 'c');
  const closed = await freePort();
  for (const command of [['enqueue', images], ['worker'], ['status']]) {
    await oneLineError([...command, '--queue', `redis://127.0.0.1:${closed}/q`], new RegExp(`^error: cannot reach Redis at 127\\.0\\.0\\.1:${closed}: connection refused$`), 5000);
    await oneLineError([...command, '--queue', `http://127.0.0.1:${closed}/q`], /^error: --queue 'http:.*scheme must be redis/, 5000);
  }
  await oneLineError(['enqueue', images], /^error: --queue redis:\/\/HOST:PORT\/NAME is required$/, 5000);
  // A server that accepts connections and never answers (a firewall, a wrong service): the probe times out.
  const sockets: import('node:net').Socket[] = [];
  const silent: Server = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  try {
    await oneLineError(['status', '--queue', `redis://127.0.0.1:${port}/q`], /^error: Redis at 127\.0\.0\.1:\d+ accepts connections but does not answer within 5 s: is it a Redis server\?$/, 9000);
  } finally {
    sockets.forEach((s) => s.destroy());
    silent.close();
  }
});

test('a queue of another hourglass version, a BullMQ queue not made by hourglass, or a queue never used: refused', async () => {
  const client = new Redis({ port: redis.port, host: '127.0.0.1' });
  try {
    await client.hset('bull:old:hourglass', 'format', '0', 'version', '0.0.1');
    await client.hset('bull:foreign:meta', 'version', 'bullmq:5.0.0');
  } finally {
    client.disconnect();
  }
  const images = join(dir, 'c');
  for (const command of [['enqueue', images], ['worker'], ['status']]) {
    await oneLineError([...command, '--queue', redis.url('old')], /^error: queue 'old' at redis:.* was made by hourglass 0\.0\.1 \(queue format 0\); this is hourglass .* \(format 1\)/, 5000);
    await oneLineError([...command, '--queue', redis.url('foreign')], /^error: queue 'foreign' at .* exists but was not made by hourglass/, 5000);
  }
  await oneLineError(['status', '--queue', redis.url('never')], /^error: no queue 'never' at redis:.*\(nothing was enqueued there\)$/, 5000);
  await assert.rejects(queueStatus(redis.url('never')), QueueError);
});
