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
import { doctorCommand } from './commands/doctor.js';
import { enqueueCommand } from './commands/enqueue.js';
import { workerCommand } from './commands/worker.js';
import { statusCommand } from './commands/status.js';
import { VERSION } from '../version.js';

export const COMMANDS: readonly Command[] = [
  infoCommand, predictCommand, trainCommand, evalCommand, exportCommand, benchCommand, enqueueCommand, workerCommand,
  statusCommand, doctorCommand,
];

function usage(): string {
  const rows = COMMANDS.map((c) => `  ${c.name.padEnd(10)}${c.summary}`).join('\n');
  return `usage: hourglass <command> [options]\n\ncommands:\n${rows}\n\n` +
    `'hourglass help <command>' (or 'hourglass <command> --help') shows a command's options; 'hourglass --version' the version.`;
}

function commandHelp(command: Command): string {
  return `usage: hourglass ${command.usage}\n\n${command.summary}\n\noptions:\n${formatFlags(command.flags)}`;
}

function unknownCommand(name: string): string {
  return `unknown command '${name}' (commands: ${COMMANDS.map((c) => c.name).join(', ')}, help, version)`;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    io.out(VERSION);
    return 0;
  }
  if (name === 'help' && rest.length > 0) {
    const topic = COMMANDS.find((c) => c.name === rest[0]);
    if (!topic) {
      io.err(red(`error: ${unknownCommand(rest[0])}`));
      return 2;
    }
    io.out(commandHelp(topic));
    return 0;
  }
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    io.out(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(red(`error: ${unknownCommand(name)}`));
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(commandHelp(command));
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof HourglassError) {
      io.err(red(`error: ${err.message}`));
      return 2;
    }
    const fsLine = fileSystemError(err);
    if (fsLine) {
      io.err(red(`error: ${fsLine}`));
      return 1;
    }
    throw err;
  }
}

const FS_ADVICE: Record<string, string> = {
  EACCES: 'permission denied: choose a location you can write to, or change its permissions',
  EPERM: 'operation not permitted: choose a location you can write to, or change its permissions',
  EEXIST: 'already exists and is in the way: remove it or choose another path',
  EISDIR: 'is a folder where a file is needed: give a file path',
  ENOTDIR: 'part of the path is a file where a folder is needed: choose another path',
  ENOENT: 'does not exist: check the path',
  ENOSPC: 'no space left on the device: free some space, then run again',
  EDQUOT: 'disk quota exceeded: free some space, then run again',
  EROFS: 'is on a read-only file system: choose another location',
  EMFILE: 'too many open files: raise the limit (ulimit -n) and run again',
  EIO: 'input/output error from the device: check the disk',
};

/** A file-system error (which carries the path and the failed call) as one line naming both, or null. */
export function fileSystemError(err: unknown): string | null {
  if (!(err instanceof Error)) return null;
  const { code, path, syscall } = err as NodeJS.ErrnoException;
  if (typeof code !== 'string' || typeof path !== 'string') return null;
  const advice = FS_ADVICE[code] ?? (err.message.replace(/^[A-Z]+: /, '') || code);
  return `${path}: ${syscall ? `${syscall} failed, ` : ''}${advice} (${code})`;
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
