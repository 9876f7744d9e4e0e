// The `hourglass` command: dispatches to one command per file under commands/, turns HourglassError into one
// red line and a non-zero exit, and lists the commands on `hourglass help`.
import { HourglassError } from '../errors.js';
import { formatFlags } from './args.js';
import type { Command, Io } from './command.js';
import { benchCommand } from './commands/bench.js';
import { infoCommand } from './commands/info.js';
import { trainCommand } from './commands/train.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { predictCommand } from './commands/predict.js';
import { enqueueCommand } from './commands/enqueue.js';
import { workerCommand } from './commands/worker.js';
import { statusCommand } from './commands/status.js';

export const COMMANDS: readonly Command[] = [infoCommand, predictCommand, trainCommand, evalCommand, exportCommand, benchCommand,
  enqueueCommand, workerCommand, statusCommand];

function usage(): string {
  const rows = COMMANDS.map((c) => `  ${c.name.padEnd(10)}${c.summary}`).join('\n');
  return `usage: hourglass <command> [options]\n\ncommands:\n${rows}\n\n'hourglass <command> --help' shows a command's options.`;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    io.out(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(red(`error: unknown command '${name}' (commands: ${COMMANDS.map((c) => c.name).join(', ')})`));
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`usage: hourglass ${command.usage}\n\n${command.summary}\n\noptions:\n${formatFlags(command.flags)}`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof HourglassError) {
      io.err(red(`error: ${err.message}`));
      return 2;
    }
    throw err;
  }
}

function red(text: string): string {
  return process.stderr.isTTY ? `\x1b[31m${text}\x1b[0m` : text;
}

export function processIo(): Io {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    isTty: Boolean(process.stdout.isTTY),
  };
}
