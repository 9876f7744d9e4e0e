// What every CLI command provides: its name, a one-line summary, its flags, and a run function.
import type { FlagSpecs } from './args.js';

export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** true when stdout is a terminal (progress bars, colours). */
  readonly isTty: boolean;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Usage line after 'hourglass '. */
  readonly usage: string;
  readonly flags: FlagSpecs;
  /** Returns the process exit code. Throws HourglassError for bad input (the CLI prints it as one line). */
  run(argv: readonly string[], io: Io): Promise<number>;
}
