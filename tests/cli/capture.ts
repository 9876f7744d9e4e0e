// A CLI Io that records what a command prints, for the command tests.
import type { Io } from '../../src/cli/command.js';

export function captureIo(): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), isTty: false };
}
