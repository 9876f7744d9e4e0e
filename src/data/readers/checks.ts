// Validation helpers shared by the readers: files and folders that must exist, numbers that must be finite,
// and the optional image-existence check run after reading.
import { existsSync, statSync } from 'node:fs';
import { FileFormatError, InvalidArgumentError } from '../../errors.js';
import type { Dataset } from '../sample.js';

/** What to do about samples whose image file is absent: nothing (default), fail, or drop them. */
export type ImageCheck = 'none' | 'require' | 'skip';

/** Throws unless `path` is an existing folder; `what` says what the folder is for. */
export function requireDir(path: string, what: string): void {
  if (!existsSync(path)) throw new FileFormatError(path, `${what} folder does not exist`);
  if (!statSync(path).isDirectory()) throw new FileFormatError(path, `${what} should be a folder, found a file`);
}

/** Throws unless `path` is an existing file; `what` says what the file should hold. */
export function requireFile(path: string, what: string): void {
  if (!existsSync(path)) throw new FileFormatError(path, `${what} does not exist`);
  if (!statSync(path).isFile()) throw new FileFormatError(path, `${what} should be a file, found a folder`);
}

/** Error for one field of one record: `<file>: record <index>, field '<field>': <detail>`. */
export function recordError(file: string, record: number | string, field: string, detail: string): FileFormatError {
  return new FileFormatError(file, `record ${record}, field '${field}': ${detail}`);
}

/** Returns `value` when it is a finite number, else throws naming the file, record and field. */
export function finite(value: number, file: string, record: number | string, field: string): number {
  if (!Number.isFinite(value)) throw recordError(file, record, field, `expected a finite number, got ${value}`);
  return value;
}

/**
 * Applies an ImageCheck to a dataset: 'require' throws listing the first missing images, 'skip' returns a
 * copy without the samples whose image is absent (their `index` still names the original record).
 */
export function checkImages(dataset: Dataset, mode: ImageCheck): Dataset {
  if (mode === 'none') return dataset;
  if (mode !== 'require' && mode !== 'skip') {
    throw new InvalidArgumentError(`checkImages must be 'none', 'require' or 'skip', got '${String(mode)}'`);
  }
  const missing = dataset.samples.filter((s) => !existsSync(s.imagePath));
  if (missing.length === 0) return dataset;
  if (mode === 'require') {
    const first = missing.slice(0, 5).map((s) => `${s.imagePath} (record ${s.index})`).join(', ');
    throw new FileFormatError(
      dataset.source,
      `${missing.length} of ${dataset.samples.length} selected images are missing, e.g. ${first}`,
    );
  }
  const gone = new Set(missing);
  return { ...dataset, samples: dataset.samples.filter((s) => !gone.has(s)) };
}
