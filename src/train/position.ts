// Where a training run stands (epoch, step, images seen, schedule state, best validation), as each checkpoint's
// metadata records it, and the checked reading of it back from a `last` checkpoint for `--resume`.
import { FileFormatError } from '../errors.js';
import type { ScheduleState } from './schedule.js';

/** Where a run stands; stored in each checkpoint's metadata. */
export interface RunPosition {
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
  imagesSeen: number;
  schedule: ScheduleState;
  bestMetric: number | null;
  bestEpoch: number | null;
  /** Seconds of training so far, over all sittings. */
  elapsed: number;
}

/**
 * The run position a `last` checkpoint records (its metadata's `position`), checked field by field: a missing or
 * mistyped field is a FileFormatError naming `file` and the field.
 */
export function parseRunPosition(value: unknown, file: string): RunPosition {
  const p = value as Partial<RunPosition> | undefined;
  const count = (name: keyof RunPosition): number => {
    const v = p?.[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new FileFormatError(file, `metadata position.${name} must be an integer >= 0, got ${JSON.stringify(v)}`);
    return v;
  };
  const epoch = count('epoch');
  const stepInEpoch = count('stepInEpoch');
  const globalStep = count('globalStep');
  const imagesSeen = count('imagesSeen');
  const saved = p?.schedule as Partial<Record<keyof ScheduleState, unknown>> | undefined;
  if (!saved || typeof saved !== 'object' || typeof saved.lr !== 'number' || !(saved.lr >= 0)) {
    throw new FileFormatError(file, 'metadata position.schedule is missing or has no learning rate');
  }
  const orNull = (v: unknown, name: string): number | null => {
    if (v === null || v === undefined) return null;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new FileFormatError(file, `metadata position.${name} must be a number or null`);
    return v;
  };
  const badEpochs = saved.badEpochs ?? 0;
  if (typeof badEpochs !== 'number' || !Number.isInteger(badEpochs) || badEpochs < 0) {
    throw new FileFormatError(file, `metadata position.schedule.badEpochs must be an integer >= 0, got ${JSON.stringify(badEpochs)}`);
  }
  const schedule: ScheduleState = { lr: saved.lr, best: orNull(saved.best, 'schedule.best'), badEpochs };
  const elapsed = typeof p?.elapsed === 'number' && Number.isFinite(p.elapsed) ? p.elapsed : 0;
  return {
    epoch, stepInEpoch, globalStep, imagesSeen, schedule,
    bestMetric: orNull(p?.bestMetric, 'bestMetric'), bestEpoch: orNull(p?.bestEpoch, 'bestEpoch'), elapsed,
  };
}
