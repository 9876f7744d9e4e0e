// Benchmark of the job queue (issue 21): the same images through plain `hourglass predict` (one process) and through
// `hourglass worker` processes (1, then 2) fed by `hourglass enqueue`, all in one run, alternating, on a private
// redis-server. Prints wall times, the queue's overhead per image against predict, and Redis's own CPU time per job
// turned into how many workers one Redis could serve. Usage (after npm run build):
//   node dist/bench/queue.js [--root ../shared/data/lspet/images] [--images 500] [--rounds 2] [--backend native] [--json]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { enqueue } from '../src/queue/enqueue.js';
import { runWorker } from '../src/queue/worker.js';
import { BIN, RedisServer } from '../tests/queue/helpers.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const root = resolve(flag('--root', '../shared/data/lspet/images'));
const count = Number(flag('--images', '500'));
const rounds = Number(flag('--rounds', '2'));
const backend = flag('--backend', 'native');
const images = readdirSync(root).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort().slice(0, count).map((f) => join(root, f));
if (images.length < count) throw new Error(`${root} has only ${images.length} images`);

function run(args: string[]): Promise<number> {
  return new Promise((res, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('close', (code) => (code === 0 ? res((performance.now() - started) / 1000) : reject(new Error(`hourglass ${args[0]} exited ${code}: ${err.slice(-500)}`))));
  });
}

/** Redis memory a done job keeps: its hash (data, options, result) and its entry in the completed set. */
async function jobBytes(port: number, queue: string, ids: string[]): Promise<number> {
  const client = new Redis({ port, host: '127.0.0.1' });
  try {
    const sizes = await Promise.all(ids.map((id) => client.memory('USAGE', `bull:${queue}:${id}`)));
    const completed = Number(await client.memory('USAGE', `bull:${queue}:completed`)) / Number(await client.zcard(`bull:${queue}:completed`));
    return sizes.reduce<number>((a, b) => a + Number(b), 0) / ids.length + completed;
  } finally {
    client.disconnect();
  }
}

async function redisCounters(port: number): Promise<{ cpu: number; commands: number }> {
  const client = new Redis({ port, host: '127.0.0.1' });
  try {
    const info = await client.info();
    const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
    return { cpu: field('used_cpu_sys') + field('used_cpu_user'), commands: field('total_commands_processed') };
  } finally {
    client.disconnect();
  }
}

const work = mkdtempSync(join(tmpdir(), 'hg-bench-queue-'));
const redis = await RedisServer.start();
const times: Record<'predict' | 'worker1' | 'worker2' | 'enqueue', number[]> = { predict: [], worker1: [], worker2: [], enqueue: [] };
const redisPerJob: { cpuMs: number; commands: number }[] = [];
const memoryPerJob: number[] = [];
const gaps: { busyMs: number; gapMs: number }[] = [];
const load = loadavg()[0];
try {
  for (let round = 0; round < rounds; round++) {
    // Plain predict and the worker processes, in the opposite order every other round (the machine's load drifts).
    const predict = async (): Promise<void> => {
      const out = join(work, `predict-${round}`);
      times.predict.push(await run(['predict', ...images, '--no-overlay', '--backend', backend, '--out', out]));
      rmSync(out, { recursive: true });
    };
    const workersRun = async (workers: 1 | 2): Promise<void> => {
      const name = `bench-${round}-${workers}`;
      const started = performance.now();
      const report = await enqueue(images, { queue: redis.url(name), out: join(work, name) });
      times.enqueue.push((performance.now() - started) / 1000);
      const before = await redisCounters(redis.port);
      const args = ['worker', '--queue', redis.url(name), '--backend', backend, '--until-empty', '--quiet'];
      const wall = Math.max(...(await Promise.all(Array.from({ length: workers }, () => run(args)))));
      const after = await redisCounters(redis.port);
      times[workers === 1 ? 'worker1' : 'worker2'].push(wall);
      if (workers === 1) redisPerJob.push({ cpuMs: ((after.cpu - before.cpu) * 1000) / count, commands: (after.commands - before.commands) / count });
      memoryPerJob.push(await jobBytes(redis.port, name, report.jobs.slice(0, 50).map((j) => j.id)));
      rmSync(join(work, name), { recursive: true });
    };
    const steps = [predict, () => workersRun(1), () => workersRun(2)];
    for (const step of round % 2 === 0 ? steps : steps.reverse()) await step();
    // In this process: the time between jobs that is not spent on them (taking, acknowledging, events), measured
    // against the time spent on them (decode, estimate, write: predict's work) in the same run.
    const name = `bench-${round}-inproc`;
    await enqueue(images, { queue: redis.url(name), out: join(work, name) });
    let busy = 0;
    let lastDone = 0;
    const worker = await runWorker({ queue: redis.url(name), backend: backend as 'native', untilEmpty: true, onEvent: (e) => {
      if (e.kind !== 'done') return;
      busy += e.ms;
      lastDone = performance.now();
    } });
    const ready = performance.now();
    await worker.stopped;
    gaps.push({ busyMs: busy / count, gapMs: (lastDone - ready - busy) / count });
    rmSync(join(work, name), { recursive: true });
  }
} finally {
  await redis.stop();
  rmSync(work, { recursive: true, force: true });
}

const best = (xs: number[]): number => Math.min(...xs);
const predictS = best(times.predict);
const worker1S = best(times.worker1);
const worker2S = best(times.worker2);
const perImageMs = (predictS / count) * 1000;
const overheadMs = ((worker1S - predictS) / count) * 1000;
const redisCpuMs = best(redisPerJob.map((r) => r.cpuMs));
const workerRate = count / worker1S;
const redisJobsPerS = 1000 / redisCpuMs;
const summary = {
  machine: `${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, load ${load.toFixed(1)} at start`,
  images: count, backend, rounds,
  seconds: { predict: times.predict, worker1: times.worker1, worker2: times.worker2, enqueue: times.enqueue },
  predictMsPerImage: perImageMs,
  queueOverheadMsPerImage: overheadMs,
  queueOverheadPercent: (overheadMs / perImageMs) * 100,
  speedup2Workers: worker1S / worker2S,
  enqueueMsPerImage: (best(times.enqueue) / count) * 1000,
  redisCpuMsPerJob: redisCpuMs,
  redisCommandsPerJob: best(redisPerJob.map((r) => r.commands)),
  workersPerRedis: redisJobsPerS / workerRate,
  redisBytesPerDoneJob: Math.max(...memoryPerJob),
  inProcess: gaps,
  inProcessOverheadPercent: Math.min(...gaps.map((g) => (g.gapMs / g.busyMs) * 100)),
};
if (process.argv.includes('--json')) console.log(JSON.stringify(summary, null, 2));
else {
  const f = (xs: number[]): string => xs.map((x) => x.toFixed(1)).join(', ');
  console.log(`${count} images, backend ${backend}, ${summary.machine}; wall seconds per run (best of ${rounds}):`);
  console.log(`  predict (1 process)      ${f(times.predict)}  -> ${perImageMs.toFixed(1)} ms/image`);
  console.log(`  1 worker process         ${f(times.worker1)}  -> overhead ${overheadMs.toFixed(2)} ms/image = ${summary.queueOverheadPercent.toFixed(1)}% of predict (target <= 10%)`);
  console.log(`  2 worker processes       ${f(times.worker2)}  -> ${summary.speedup2Workers.toFixed(2)}x one worker`);
  console.log(`  in one worker process: ${gaps.map((g) => `${g.busyMs.toFixed(1)} ms/job on the image, ${g.gapMs.toFixed(2)} ms/job between jobs`).join('; ')}` +
    ` -> queue overhead ${summary.inProcessOverheadPercent.toFixed(1)}% (best round)`);
  console.log(`  enqueue (hash + add)     ${f(times.enqueue)}  -> ${summary.enqueueMsPerImage.toFixed(2)} ms/image`);
  console.log(`  Redis per job: ${redisCpuMs.toFixed(3)} ms CPU, ${summary.redisCommandsPerJob.toFixed(1)} commands -> one Redis core serves ~${Math.round(redisJobsPerS)} jobs/s, ` +
    `~${Math.round(summary.workersPerRedis)} workers at this worker's ${workerRate.toFixed(1)} images/s; ${Math.round(summary.redisBytesPerDoneJob)} bytes of Redis memory kept per done job`);
}
