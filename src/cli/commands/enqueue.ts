// `hourglass enqueue SOURCE... --queue redis://HOST:PORT/NAME`: one job per image of the sources (files, folders,
// manifests) on a BullMQ queue, for `hourglass worker` processes on any number of machines (src/queue/).
import { resolve } from 'node:path';
import { parseArgs } from '../args.js';
import type { Command } from '../command.js';
import { InvalidArgumentError } from '../../errors.js';
import { enqueue } from '../../queue/enqueue.js';
import { parseScales } from '../../inference/multi-scale.js';
import { PEOPLE_FLAGS, parseBox, peopleLimits } from './predict.js';

const FLAGS = {
  queue: { type: 'string', help: 'the queue: redis://HOST[:PORT]/NAME (required)' },
  out: { type: 'string', help: 'folder of the result files, reachable by every worker (default predictions)' },
  results: { type: 'string', choices: ['files', 'redis'], help: 'files (default): a JSON file per image in --out; redis: kept in Redis as the job result' },
  overlay: { type: 'boolean', help: 'also draw the overlay PNG beside each JSON file' },
  box: { type: 'string', help: 'the person box x,y,width,height in pixels, for every image (default: the people are searched for)' },
  ...PEOPLE_FLAGS,
  scales: { type: 'string', help: 'multi-scale test crop sizes, including 1 (e.g. 0.8,0.9,1,1.1,1.2)' },
  'no-flip-test': { type: 'boolean', help: 'no flip test (twice as fast, a little less accurate)' },
  attempts: { type: 'int', min: 1, help: 'tries per image before it goes to the failed set (default 3)' },
  backoff: { type: 'number', min: 0, help: 'first retry delay in seconds, doubled at each retry (default 2)' },
  json: { type: 'boolean', help: 'print the report (counts and every job with its id and result file) as JSON' },
} as const;

export const enqueueCommand: Command = {
  name: 'enqueue',
  summary: 'add one pose job per image to a Redis queue (BullMQ) for `hourglass worker` processes',
  usage: 'enqueue SOURCE... --queue redis://HOST:PORT/NAME [--out DIR | --results redis] [--json]',
  flags: FLAGS,
  async run(argv, io) {
    const { flags, positionals } = parseArgs(argv, FLAGS);
    if (flags.queue === undefined) throw new InvalidArgumentError('--queue redis://HOST:PORT/NAME is required');
    const results = flags.results === 'redis' ? 'redis' : 'files';
    if (results === 'redis' && (flags.out !== undefined || flags.overlay)) throw new InvalidArgumentError('--out and --overlay write files; they do not go with --results redis');
    const report = await enqueue(positionals, {
      queue: flags.queue,
      out: flags.out,
      results,
      overlay: flags.overlay ?? false,
      flipTest: !flags['no-flip-test'],
      box: flags.box === undefined ? undefined : parseBox(flags.box),
      ...peopleLimits(flags),
      scales: flags.scales === undefined ? undefined : parseScales(flags.scales),
      attempts: flags.attempts,
      backoffMs: flags.backoff === undefined ? undefined : flags.backoff * 1000,
    });
    io.err(`${report.queue}: added ${report.added} job${report.added === 1 ? '' : 's'}, ${report.existing} already queued` +
      (results === 'files' ? ` (results in ${resolve(flags.out ?? 'predictions')})` : ' (results kept in Redis)'));
    if (flags.json) io.out(JSON.stringify(report));
    return 0;
  },
};
