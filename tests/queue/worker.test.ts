// runWorker() in this process (tiny model, the fastest backend here): results are predict's JSON, byte for byte; a corrupt image
// is retried, then lands in the failed set with its error line while the other images are done; results kept in
// Redis; close() lets the current job finish.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enqueue } from '../../src/queue/enqueue.js';
import { runWorker, type WorkerEvent } from '../../src/queue/worker.js';
import { queueStatus } from '../../src/queue/status.js';
import { main } from '../../src/cli/main.js';
import { captureIo } from '../cli/capture.js';
import { FIXTURES } from '../data/paths.js';
import { makeImages, RedisServer } from './helpers.js';
import { tinyCheckpoint } from '../helpers.js';

let redis: RedisServer;
let dir: string;
let model: string;
before(async () => {
  redis = await RedisServer.start();
  dir = mkdtempSync(join(tmpdir(), 'hg-worker-'));
  model = await tinyCheckpoint(dir);
});
after(async () => {
  await redis.stop();
});

test('a worker writes the JSON of predict; a corrupt image goes to the failed set after its tries; the rest are done', async () => {
  const images = join(dir, 'images');
  await makeImages(images, 3);
  const real = join(FIXTURES, 'lspet', 'images', 'im00001.jpg');
  writeFileSync(join(images, 'broken.jpg'), 'this is not a JPEG');
  const queue = redis.url('corrupt');
  const out = join(dir, 'out');
  const report = await enqueue([images, real], { queue, out, attempts: 2, backoffMs: 50, overlay: true });
  assert.equal(report.added, 5);
  const events: WorkerEvent[] = [];
  const worker = await runWorker({ queue, model, backend: 'auto', lockSeconds: 5, untilEmpty: true, onEvent: (e) => events.push(e) });
  const stats = await worker.stopped;
  assert.deepEqual(stats, { done: 4, failed: 2 });
  const status = await queueStatus(queue);
  assert.deepEqual(status.counts, { waiting: 0, delayed: 0, active: 0, done: 4, failed: 1 });
  assert.equal(status.failedJobs.length, 1);
  const failed = status.failedJobs[0];
  assert.equal(failed.image, join(images, 'broken.jpg'));
  assert.equal(failed.attempts, 2);
  assert.match(failed.error, /broken\.jpg: /);
  assert.ok(!failed.error.includes('\n'));
  const failures = events.filter((e) => e.kind === 'failed');
  assert.deepEqual(failures.map((e) => e.kind === 'failed' && [e.attempt, e.final]), [[1, false], [2, true]]);
  // Every result file is whole, and the real image's is exactly what `hourglass predict` writes for it.
  assert.deepEqual(readdirSync(out).sort(), ['im00001.json', 'im00001.png', 'img0000.json', 'img0000.png', 'img0001.json', 'img0001.png', 'img0002.json', 'img0002.png']);
  const io = captureIo();
  const predicted = join(dir, 'predicted');
  assert.equal(await main(['predict', real, '--model', model, '--backend', 'auto', '--out', predicted], io), 0, io.errors.join('\n'));
  const fromPredict = readFileSync(join(predicted, 'im00001.json'), 'utf8');
  const fromWorker = readFileSync(join(out, 'im00001.json'), 'utf8');
  assert.equal(fromWorker.replaceAll(out, predicted), fromPredict);
  // The status command lists the failure with its error line.
  const io2 = captureIo();
  assert.equal(await main(['status', '--queue', queue], io2), 0);
  assert.match(io2.lines.join('\n'), /4 done, 1 failed[\s\S]*failed: .*broken\.jpg: .* \(2 tries\)/);
  // --watch on a queue with nothing left draws the bar once (plain lines off a terminal) and reports.
  const io3 = captureIo();
  assert.equal(await main(['status', '--queue', queue, '--watch', '--interval', '0.2'], io3), 0);
  assert.match(io3.lines[0], /corrupt 5\/5 0 waiting, 0 retrying, 0 active, 4 done, 1 failed; [\d.]+ img\/s ETA 0s/);
  assert.match(io3.lines[1], /4 done, 1 failed/);
});

test('with results in Redis each job holds the result record; close() finishes the current job', async () => {
  const images = await makeImages(join(dir, 'r'), 4);
  const queue = redis.url('inredis');
  await enqueue(images, { queue, results: 'redis', box: { x: 0, y: 0, width: 40, height: 48 } }); // flat images: no person to find
  let done = 0;
  const worker = await runWorker({ queue, model, backend: 'auto', onEvent: (e) => {
    if (e.kind === 'done') done++;
  } });
  const { Queue } = await import('bullmq');
  const q = new Queue('inredis', { connection: { host: '127.0.0.1', port: redis.port } });
  try {
    for (let i = 0; i < 400 && done < 4; i++) await new Promise((r) => setTimeout(r, 25));
    const stats = await worker.close();
    assert.equal(stats.done, 4);
    const jobs = await q.getCompleted();
    assert.equal(jobs.length, 4);
    for (const job of jobs) {
      const r = job.returnvalue as { image: string; keypoints: unknown[]; json: null; overlay: null };
      assert.equal(r.image, job.data.image);
      assert.equal(r.keypoints.length, 14);
      assert.deepEqual([r.json, r.overlay], [null, null]);
    }
  } finally {
    await q.close();
  }
});

test('the person search limits given to enqueue reach the worker, as predict takes them', async () => {
  const real = join(FIXTURES, 'lspet', 'images', 'im00001.jpg');
  const predict = async (extra: string[]): Promise<{ people: { score: number }[] }> => {
    const io = captureIo();
    assert.equal(await main(['predict', real, '--model', model, '--backend', 'auto', '--no-overlay', '--out', join(dir, 'limits-predict'), '--json', ...extra], io), 0, io.errors.join('\n'));
    return JSON.parse(io.lines.join('\n'))[0];
  };
  const found = await predict([]);
  assert.ok(found.people.length >= 1, 'the fixture image has a person to find');
  const top = found.people[0].score;
  assert.ok(top < 0.99, `the top person's score ${top} leaves room above it`);
  const above = Number(((top + 1) / 2).toFixed(4));
  const queue = redis.url('limits');
  await enqueue([real], { queue, results: 'redis', minPersonScore: above, maxPeople: 1 });
  const worker = await runWorker({ queue, model, backend: 'auto', untilEmpty: true });
  assert.deepEqual(await worker.stopped, { done: 1, failed: 0 });
  const { Queue } = await import('bullmq');
  const q = new Queue('limits', { connection: { host: '127.0.0.1', port: redis.port } });
  try {
    const [job] = await q.getCompleted();
    assert.deepEqual([job.data.maxPeople, job.data.minPersonScore], [1, above]);
    // Nobody scores that high: the worker's result has no person, as predict's with the same limit.
    assert.deepEqual((job.returnvalue as { people: unknown[] }).people, []);
    assert.deepEqual((await predict(['--min-person-score', String(above)])).people, []);
  } finally {
    await q.close();
  }
});
