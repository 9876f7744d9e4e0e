// `hourglass worker` processes against a private redis-server: a worker killed with -9 in the middle of a job loses
// nothing (the job is taken again once its lock expires and completes once, its output whole); Redis restarted
// mid-run (workers reconnect, nothing lost; SIGTERM then stops them cleanly); 2 workers finish 200 images, each
// output present exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Queue } from 'bullmq';
import { enqueue } from '../../src/queue/enqueue.js';
import { queueStatus } from '../../src/queue/status.js';
import { makeImages, RedisServer, spawnWorker, waitFor, type WorkerProcess } from './helpers.js';
import { tinyCheckpoint } from '../helpers.js';

let redis: RedisServer;
let dir: string;
let model: string;
before(async () => {
  redis = await RedisServer.start();
  dir = mkdtempSync(join(tmpdir(), 'hg-workers-'));
  model = await tinyCheckpoint(dir);
});
after(async () => {
  await redis.stop();
});

/** The result files in out (hidden temporary files of an interrupted write excluded), each parsed whole. */
function results(out: string): Map<string, { image: string; keypoints: unknown[] }> {
  const files = readdirSync(out).filter((f) => !f.startsWith('.'));
  return new Map(files.map((f) => [f, JSON.parse(readFileSync(join(out, f), 'utf8')) as { image: string; keypoints: unknown[] }]));
}

function worker(queue: string, ...extra: string[]): WorkerProcess {
  return spawnWorker(['--queue', queue, '--model', model, '--backend', 'auto', '--lock', '1', ...extra]);
}

test('kill -9 of a worker in the middle of a job: the job is taken again after its lock expires and completes once', { timeout: 60_000 }, async () => {
  const images = await makeImages(join(dir, 'k'), 30);
  const queue = redis.url('kill');
  const out = join(dir, 'kout');
  // the flat test images hold no person: a box gives every job a whole pose to check
  await enqueue(images, { queue, out, flipTest: false, box: { x: 0, y: 0, width: 40, height: 48 } });
  const q = new Queue('kill', { connection: { host: '127.0.0.1', port: redis.port } });
  try {
    const first = worker(queue);
    await waitFor('the first worker to finish 3 jobs', () => first.done().length >= 3);
    // Freeze the worker; if it holds a job, kill it there, else let it run a moment and try again.
    let killed: string | undefined;
    while (killed === undefined) {
      first.child.kill('SIGSTOP');
      const active = await q.getActive();
      if (active.length === 1) {
        killed = String(active[0].id);
        first.child.kill('SIGKILL');
      } else {
        first.child.kill('SIGCONT');
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    assert.equal(await first.exited, null);
    const doneBefore = (await q.getJobCounts('completed'))['completed'];
    assert.ok(doneBefore < 30, 'killed before the end');
    const second = worker(queue, '--until-empty');
    assert.equal(await second.exited, 0, second.stderr());
    const counts = await q.getJobCounts('completed', 'failed', 'active', 'wait', 'delayed');
    assert.deepEqual(counts, { completed: 30, failed: 0, active: 0, wait: 0, delayed: 0 });
    const job = await q.getJob(killed);
    assert.ok(job && job.stalledCounter >= 1, 'the killed job was found stalled and taken again');
    assert.ok(second.done().includes(job.data.image), 'the second worker did the killed job');
    const files = results(out);
    assert.equal(files.size, 30);
    assert.deepEqual([...files.values()].map((r) => basename(r.image)).sort(), images.map((p) => basename(p)).sort());
    assert.ok([...files.values()].every((r) => r.keypoints.length === 14));
    // Every image was done by one of the two workers; only the killed job may have been started by both.
    const all = [...first.done(), ...second.done()];
    assert.deepEqual([...new Set(all)].sort(), [...images].sort());
    assert.ok(all.length <= 31);
  } finally {
    await q.close();
  }
});

test('Redis restarted mid-run: the worker reconnects and finishes every job; SIGTERM stops it cleanly', { timeout: 60_000 }, async () => {
  const images = await makeImages(join(dir, 'r'), 40);
  const queue = redis.url('restart');
  const out = join(dir, 'rout');
  await enqueue(images, { queue, out, flipTest: false });
  const w = worker(queue);
  await waitFor('5 jobs done', () => w.done().length >= 5);
  await redis.restart(500);
  await waitFor('40 jobs done', async () => (await queueStatus(queue)).counts.done === 40, 45_000, 200);
  const status = await queueStatus(queue);
  assert.deepEqual(status.counts, { waiting: 0, delayed: 0, active: 0, done: 40, failed: 0 });
  assert.ok(status.throughput > 0);
  assert.match(w.stderr(), /redis: .* \(reconnecting\)/);
  assert.equal(results(out).size, 40);
  w.child.kill('SIGTERM');
  assert.equal(await w.exited, 0, w.stderr());
  assert.match(w.stderr(), /SIGTERM: finishing the current job, then stopping[\s\S]*worker stopped: \d+ done/);
});

test('2 workers finish 200 images: every output present exactly once, each image done once', { timeout: 60_000 }, async () => {
  const images = await makeImages(join(dir, 'w'), 200);
  const queue = redis.url('two');
  const out = join(dir, 'wout');
  // Both workers wait on the queue before the jobs come, so that both take jobs from the start.
  const workers = [worker(queue), worker(queue)];
  await waitFor('both workers ready', () => workers.every((w) => /worker on /.test(w.stderr())));
  const report = await enqueue(images, { queue, out, flipTest: false });
  assert.equal(report.added, 200);
  await waitFor('200 jobs done', async () => (await queueStatus(queue)).counts.done === 200, 50_000, 200);
  workers.forEach((w) => w.child.kill('SIGTERM'));
  assert.deepEqual(await Promise.all(workers.map((w) => w.exited)), [0, 0]);
  const done = workers.map((w) => w.done());
  assert.ok(done.every((d) => d.length > 0), `both workers took jobs: ${done.map((d) => d.length).join(', ')}`);
  const all = done.flat();
  assert.equal(all.length, 200);
  assert.equal(new Set(all).size, all.length, 'no image done twice');
  const files = results(out);
  assert.equal(files.size, 200);
  assert.deepEqual([...files.values()].map((r) => r.image).sort(), [...images].sort());
});
