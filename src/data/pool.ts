// A small pool of worker_threads for the data pipeline (docs/design.md "Pipeline": decoding and augmentation in worker
// threads ahead of the trainer): one task per worker at a time, FIFO queue, errors as rejected promises.
import { Worker } from 'node:worker_threads';

/** The parent's Node flags minus those a worker rejects (`node --input-type=module -e ...` would kill it). */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--input-type') i++;
    else if (!argv[i].startsWith('--input-type=')) out.push(argv[i]);
  }
  return out;
}

/** What a worker posts back: the task's id and either a result or an error description. */
export type WorkerReply<Res> =
  | { readonly id: number; readonly ok: true; readonly result: Res }
  | { readonly id: number; readonly ok: false; readonly error: WorkerErrorInfo };

export interface WorkerErrorInfo {
  readonly name: string;
  readonly message: string;
  /** The file a FileFormatError named. */
  readonly file?: string;
  /** The FileFormatError's detail (its message without the file). */
  readonly detail?: string;
}

interface Job<Req, Res> {
  readonly id: number;
  readonly request: Req;
  readonly transfer: ArrayBuffer[];
  readonly resolve: (value: Res) => void;
  readonly reject: (reason: Error) => void;
}

interface Slot<Req, Res> {
  readonly worker: Worker;
  job: Job<Req, Res> | null;
}

/**
 * Workers are unref'd while idle, so a pool somebody forgot to close does not keep the process alive, and ref'd
 * while they run a task, so that a caller awaiting a result is not cut short by the process exiting.
 */
export class WorkerPool<Req, Res> {
  private readonly slots: Slot<Req, Res>[] = [];
  private readonly queue: Job<Req, Res>[] = [];
  private nextId = 1;
  private failure: Error | null = null;
  private closed = false;

  constructor(
    url: URL,
    size: number,
    workerData: unknown,
    private readonly toError: (info: WorkerErrorInfo) => Error,
  ) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(url, { workerData, execArgv: workerExecArgv() });
      const slot: Slot<Req, Res> = { worker, job: null };
      worker.unref();
      worker.on('message', (reply: WorkerReply<Res>) => this.onReply(slot, reply));
      worker.on('error', (err: Error) => this.fail(new Error(`data worker crashed: ${err.message}`, { cause: err })));
      worker.on('messageerror', (err: Error) => this.fail(new Error(`data worker sent an unreadable message: ${err.message}`)));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(new Error(`data worker exited unexpectedly (code ${code})`));
      });
      this.slots.push(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  /** Runs one task on the next free worker. `transfer`: buffers of the request to move rather than copy. */
  run(request: Req, transfer: ArrayBuffer[] = []): Promise<Res> {
    if (this.closed) return Promise.reject(new Error('data pipeline is closed'));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, request, transfer, resolve, reject });
      this.dispatch();
    });
  }

  /** Terminates the workers; tasks still queued or running are rejected. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error('data pipeline was closed');
    this.rejectAll(err);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job !== null) continue;
      const job = this.queue.shift() as Job<Req, Res>;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage({ id: job.id, request: job.request }, job.transfer);
    }
  }

  private onReply(slot: Slot<Req, Res>, reply: WorkerReply<Res>): void {
    const job = slot.job;
    if (job === null || job.id !== reply.id) {
      this.fail(new Error(`data worker answered task ${reply.id}, expected ${job?.id ?? 'none'}`));
      return;
    }
    slot.job = null;
    slot.worker.unref();
    if (reply.ok) job.resolve(reply.result);
    else job.reject(this.toError(reply.error));
    this.dispatch();
  }

  /** A worker died or broke the protocol: every task, now and later, fails with this error. */
  private fail(err: Error): void {
    if (this.failure || this.closed) return;
    this.failure = err;
    this.rejectAll(err);
    // The pool is unusable: stop the other workers, so the process can exit even if close() is never called.
    for (const slot of this.slots) void slot.worker.terminate();
  }

  private rejectAll(err: Error): void {
    for (const slot of this.slots) {
      if (slot.job) slot.job.reject(err);
      slot.job = null;
      slot.worker.unref();
    }
    for (const job of this.queue.splice(0)) job.reject(err);
  }
}
