// Index ranges ('1-8000', '1-100,200-300') → 1-based record indices; what `--images` selects.
import { InvalidArgumentError } from '../errors.js';

/** Largest single range accepted when the dataset length is not known (guards against typos like 1-10000000000). */
const MAX_UNBOUNDED = 10_000_000;

/**
 * Parses a list of 1-based inclusive ranges and single indices, e.g. '1-6000', '5', '1-100,200-300'.
 * Returns the indices in the order written. With `length` given, every index must be ≤ length.
 * Empty parts, reversed ranges, zero, non-integers and overlaps are errors naming the offending part.
 */
export function parseIndexRange(spec: string, length?: number): number[] {
  const text = spec.trim();
  if (text === '') throw new InvalidArgumentError(`index range is empty (expected e.g. '1-6000' or '1-100,200-300')`);
  const out: number[] = [];
  const seen = new Set<number>();
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (m === null) {
      throw new InvalidArgumentError(`index range '${spec}': bad part '${part}' (expected N or N-M with 1-based integers)`);
    }
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (first < 1) throw new InvalidArgumentError(`index range '${spec}': indices are 1-based, '${part}' starts at 0`);
    if (last < first) throw new InvalidArgumentError(`index range '${spec}': '${part}' ends before it starts`);
    if (length === undefined && last - first >= MAX_UNBOUNDED) {
      throw new InvalidArgumentError(`index range '${spec}': '${part}' selects more than ${MAX_UNBOUNDED} records`);
    }
    if (length !== undefined && last > length) {
      throw new InvalidArgumentError(`index range '${spec}': '${part}' goes past the dataset's ${length} records`);
    }
    for (let i = first; i <= last; i++) {
      if (seen.has(i)) throw new InvalidArgumentError(`index range '${spec}': index ${i} is selected twice`);
      seen.add(i);
      out.push(i);
    }
  }
  return out;
}

/**
 * Resolves a selection (a range string or a list of 1-based indices; undefined = all) against a dataset of
 * `length` records and returns the 1-based indices. `what` names the dataset in errors.
 */
export function resolveSelection(selection: string | readonly number[] | undefined, length: number, what: string): number[] {
  if (selection === undefined) return Array.from({ length }, (_, i) => i + 1);
  if (typeof selection === 'string') {
    try {
      return parseIndexRange(selection, length);
    } catch (e) {
      if (e instanceof InvalidArgumentError) throw new InvalidArgumentError(`${what}: ${e.message}`);
      throw e;
    }
  }
  const seen = new Set<number>();
  for (const i of selection) {
    if (!Number.isInteger(i) || i < 1 || i > length) {
      throw new InvalidArgumentError(`${what}: index ${i} is not a record (expected 1..${length})`);
    }
    if (seen.has(i)) throw new InvalidArgumentError(`${what}: index ${i} is selected twice`);
    seen.add(i);
  }
  return [...selection];
}
