// `hourglass status --queue redis://HOST:PORT/NAME`: a queue's counts, throughput and ETA, and its failed jobs with
// their error lines; --watch redraws a progress bar until nothing is left; --json for scripts.
import { parseArgs } from '../args.js';
import type { Command, Io } from '../command.js';
import { InvalidArgumentError } from '../../errors.js';
import { queueStatus, type QueueStatus } from '../../queue/status.js';
import { formatDuration, Progress } from '../progress.js';

const FLAGS = {
  queue: { type: 'string', help: 'the queue: redis://HOST[:PORT]/NAME (required)' },
  watch: { type: 'boolean', help: 'redraw a progress bar with throughput and ETA until nothing is waiting or in progress' },
  interval: { type: 'number', min: 0.2, help: 'seconds between redraws with --watch (default 2)' },
  failed: { type: 'int', min: 0, help: 'how many failed jobs to list (default 10)' },
  json: { type: 'boolean', help: 'print the status as JSON (with --watch: one line per redraw)' },
} as const;

function left(s: QueueStatus): number {
  return s.counts.waiting + s.counts.delayed + s.counts.active;
}

function summary(s: QueueStatus): string {
  const c = s.counts;
  return `${c.waiting} waiting, ${c.delayed} retrying, ${c.active} active, ${c.done} done, ${c.failed} failed; ${s.throughput.toFixed(1)} img/s`;
}

function report(s: QueueStatus, io: Io): void {
  io.out(`${s.queue}: ${summary(s)}${left(s) > 0 ? `, ETA ${s.etaSeconds === null ? '?' : formatDuration(s.etaSeconds)}` : ''}`);
  for (const f of s.failedJobs) io.out(`failed: ${f.image}: ${f.error} (${f.attempts} tr${f.attempts === 1 ? 'y' : 'ies'})`);
  if (s.failedJobs.length < s.counts.failed) io.out(`(${s.counts.failed - s.failedJobs.length} more failed; --failed N lists more)`);
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'counts, throughput and ETA of a pose queue, and its failed jobs',
  usage: 'status --queue redis://HOST:PORT/NAME [--watch] [--json]',
  flags: FLAGS,
  async run(argv, io) {
    const { flags, positionals } = parseArgs(argv, FLAGS);
    if (positionals.length > 0) throw new InvalidArgumentError(`status takes no arguments, got '${positionals[0]}'`);
    if (flags.queue === undefined) throw new InvalidArgumentError('--queue redis://HOST:PORT/NAME is required');
    const options = { failedLimit: flags.failed ?? 10 };
    if (!flags.watch) {
      const s = await queueStatus(flags.queue, options);
      if (flags.json) io.out(JSON.stringify(s));
      else report(s, io);
      return 0;
    }
    // A redrawn bar on a terminal; elsewhere one plain line per redraw, through io.
    const progress = new Progress(io.isTty ? (text) => process.stdout.write(text) : (text) => io.out(text.replace(/\n$/, '')), io.isTty, 0);
    let stop = false;
    const onSignal = (): void => {
      stop = true;
    };
    process.on('SIGINT', onSignal);
    try {
      for (;;) {
        const s = await queueStatus(flags.queue, { failedLimit: 0 });
        if (flags.json) io.out(JSON.stringify(s));
        else progress.update({ label: s.queue, done: s.counts.done + s.counts.failed, total: s.total, detail: summary(s), rate: s.throughput, itemsPerUnit: 1 });
        if (left(s) === 0 || stop) break;
        await new Promise((r) => setTimeout(r, (flags.interval ?? 2) * 1000));
        if (stop) break;
      }
    } finally {
      process.off('SIGINT', onSignal);
      progress.end();
    }
    if (!flags.json) report(await queueStatus(flags.queue, options), io);
    return 0;
  },
};
