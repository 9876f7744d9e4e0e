// `hourglass worker --queue redis://HOST:PORT/NAME`: takes pose jobs until stopped (or until the queue is empty
// with --until-empty). SIGTERM / Ctrl-C finish the current jobs and exit; a second signal exits at once (the
// unfinished jobs are taken again by other workers once their locks expire).
import { parseArgs } from '../args.js';
import type { Command } from '../command.js';
import { InvalidArgumentError } from '../../errors.js';
import { parseBackendName } from '../../backend/select.js';
import { runWorker, type WorkerEvent } from '../../queue/worker.js';
import { bundledNames, DEFAULT_MODEL } from '../../api/models.js';

const FLAGS = {
  queue: { type: 'string', help: 'the queue: redis://HOST[:PORT]/NAME (required)' },
  concurrency: { type: 'int', min: 1, help: 'jobs in progress at once in this process (default 1)' },
  model: { type: 'string', help: `checkpoint to run, or a bundled model (${bundledNames()}; default ${DEFAULT_MODEL.name})` },
  backend: { type: 'string', help: 'auto (default), native, wasm, cpu, tensorflow, webgpu (a GPU through Dawn: npm install webgpu)' },
  lock: { type: 'number', min: 1, help: 'seconds a job stays locked without renewal: a crashed worker\'s job is taken again after about twice this (default 30)' },
  'until-empty': { type: 'boolean', help: 'exit once nothing is waiting, retrying or in progress' },
  quiet: { type: 'boolean', help: 'no line per image (failures and connection trouble are still reported)' },
} as const;

function describe(e: WorkerEvent): string {
  switch (e.kind) {
    case 'done':
      return `${e.image}: ${e.ms.toFixed(0)} ms -> ${e.json ?? 'redis'}`;
    case 'failed':
      return `${e.image}: ${e.error} (try ${e.attempt} of ${e.attempts}${e.final ? ', failed' : ', will retry'})`;
    case 'connection':
      return `redis: ${e.error} (reconnecting)`;
  }
}

export const workerCommand: Command = {
  name: 'worker',
  summary: 'take pose jobs from a Redis queue and write each result (run any number, on any machines)',
  usage: 'worker --queue redis://HOST:PORT/NAME [--concurrency N] [--model CKPT] [--backend B] [--until-empty]',
  flags: FLAGS,
  async run(argv, io) {
    const { flags, positionals } = parseArgs(argv, FLAGS);
    if (positionals.length > 0) throw new InvalidArgumentError(`worker takes no arguments, got '${positionals[0]}' (images are added with hourglass enqueue)`);
    if (flags.queue === undefined) throw new InvalidArgumentError('--queue redis://HOST:PORT/NAME is required');
    const worker = await runWorker({
      queue: flags.queue,
      model: flags.model,
      backend: parseBackendName(flags.backend ?? 'auto'),
      concurrency: flags.concurrency,
      lockSeconds: flags.lock,
      untilEmpty: flags['until-empty'] ?? false,
      onEvent: (e) => {
        if (e.kind !== 'done' || !flags.quiet) io.err(describe(e));
      },
    });
    io.err(`worker on ${flags.queue.replace(/\/\/[^@/]*@/, '//')}: model ${flags.model ?? DEFAULT_MODEL.name}, backend ${worker.backend}, concurrency ${flags.concurrency ?? 1} (pid ${process.pid})`);
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals === 1) {
        io.err(`${signal}: finishing the current job${(flags.concurrency ?? 1) > 1 ? 's' : ''}, then stopping (again to stop at once)`);
        void worker.close();
      } else {
        // Nothing is lost by leaving now: the unfinished jobs' locks expire and other workers take them (as after kill -9).
        io.err(`${signal}: stopping now; unfinished jobs go back to the queue when their locks expire`);
        process.exit(130);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const stats = await worker.stopped;
      io.err(`worker stopped: ${stats.done} done, ${stats.failed} failed tr${stats.failed === 1 ? 'y' : 'ies'}`);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    return 0;
  },
};
