// The files of a training run folder: config.json (what to train; all a resume needs), last.ckpt / best.ckpt,
// log.jsonl (one JSON object per line), progress.svg, and with --keep-epochs epochs/epoch-NNN.ckpt. Writes are atomic.
import { existsSync, readFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { FileFormatError } from '../errors.js';

export const RUN_FILES = {
  config: 'config.json',
  last: 'last.ckpt',
  best: 'best.ckpt',
  log: 'log.jsonl',
  plot: 'progress.svg',
} as const;

export function runPath(dir: string, file: keyof typeof RUN_FILES): string {
  return join(dir, RUN_FILES[file]);
}

/** The weights-only snapshot of the end of `epoch` (1-based) that `keepEpochs` keeps. */
export function epochPath(dir: string, epoch: number): string {
  return join(dir, 'epochs', `epoch-${String(epoch).padStart(3, '0')}.ckpt`);
}

export function writeJson(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

export function readJson(path: string, what: string): unknown {
  if (!existsSync(path)) throw new FileFormatError(path, `${what} not found`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (err) {
    throw new FileFormatError(path, `${what} is not valid JSON (${(err as Error).message})`);
  }
}

export interface LogEntry {
  readonly type: string;
  readonly globalStep: number;
  readonly [key: string]: unknown;
}

/** Append-only JSONL log of a run. */
export class RunLog {
  constructor(readonly path: string) {
    mkdirSync(join(path, '..'), { recursive: true });
  }

  append(entry: LogEntry): void {
    appendFileSync(this.path, `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
  }

  /**
   * The log's entries. A line that is not JSON is skipped (a line torn by a hard kill); a JSON line that is not an
   * entry (an object with a string `type` and a whole `globalStep` >= 0) is an error naming the file and the line.
   */
  entries(): LogEntry[] {
    if (!existsSync(this.path)) return [];
    return readFileSync(this.path, 'utf8')
      .split('\n')
      .flatMap((line, i) => {
        if (line.trim() === '') return [];
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          return [];
        }
        const entry = value as Partial<LogEntry> | null;
        if (entry === null || typeof entry !== 'object' || Array.isArray(entry) || typeof entry.type !== 'string' ||
            !Number.isInteger(entry.globalStep) || (entry.globalStep as number) < 0) {
          throw new FileFormatError(this.path, `line ${i + 1} is not a log entry (an object with a string "type" and a whole "globalStep" >= 0): ${line.slice(0, 80)}`);
        }
        return [entry as LogEntry];
      });
  }

  /**
   * Drops what was logged after the checkpoint a resume starts from: everything after the last `checkpoint` entry
   * of `globalStep` (a validation logged after it is redone), or when there is none, every entry past globalStep.
   */
  truncateAfterCheckpoint(globalStep: number): void {
    const entries = this.entries();
    let end = -1;
    for (let i = entries.length - 1; i >= 0; i--) {
      if (entries[i].type === 'checkpoint' && entries[i].globalStep === globalStep) {
        end = i;
        break;
      }
    }
    const kept = end >= 0 ? entries.slice(0, end + 1) : entries.filter((e) => e.globalStep <= globalStep);
    writeFileAtomic(this.path, kept.map((e) => `${JSON.stringify(e)}\n`).join(''));
  }

  /** Drops what was logged after a checkpoint (kept: entries up to and including globalStep), atomically. */
  truncateAfter(globalStep: number): void {
    const kept = this.entries().filter((e) => e.globalStep <= globalStep);
    writeFileAtomic(this.path, kept.map((e) => `${JSON.stringify(e)}\n`).join(''));
  }
}
