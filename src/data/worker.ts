// Entry point of a data worker thread (docs/design.md "Pipeline"): runs PipelineTasks (task.ts) sent by the pool
// (pool.ts) and posts the results back, moving the pixel buffers rather than copying them.
import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import { errorInfo, TaskRunner } from './task.js';
import type { PipelineResult, PipelineTask, WorkerConfig } from './task.js';
import type { WorkerReply } from './pool.js';

if (parentPort === null) throw new Error('src/data/worker.ts must be run as a worker thread');
const port = parentPort;
// Each worker decodes one small image at a time: libvips' own thread pool and cache buy nothing here.
sharp.concurrency(1);
sharp.cache(false);
const runner = new TaskRunner(workerData as WorkerConfig);

port.on('message', (message: { id: number; request: PipelineTask }) => {
  const { id, request } = message;
  runner.run(request).then(
    (result) => {
      const transfer: ArrayBuffer[] = [result.inputs.buffer as ArrayBuffer, ...otherBuffers(result)];
      const reply: WorkerReply<PipelineResult> = { id, ok: true, result };
      port.postMessage(reply, transfer);
    },
    (err: unknown) => {
      const reply: WorkerReply<PipelineResult> = { id, ok: false, error: errorInfo(err) };
      port.postMessage(reply);
    },
  );
});

function otherBuffers(result: PipelineResult): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  if (result.targets) out.push(result.targets.buffer as ArrayBuffer);
  if (result.weights) out.push(result.weights.buffer as ArrayBuffer);
  for (const r of result.rescaled) out.push(r.buffer as ArrayBuffer);
  for (const z of result.sized) {
    out.push(z.inputs.buffer as ArrayBuffer);
    for (const r of z.rescaled) out.push(r.buffer as ArrayBuffer);
  }
  return out;
}
