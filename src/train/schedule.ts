// Learning-rate schedules: drops by a factor at given epochs (the paper's "afterwards a few epochs at 5e-5"), or on
// a plateau of the validation metric. The state is plain data so a resumed run continues the same schedule.
import { InvalidArgumentError } from '../errors.js';

export type ScheduleSpec =
  | { readonly kind: 'steps'; readonly base: number; readonly dropEpochs: readonly number[]; readonly factor: number }
  | { readonly kind: 'plateau'; readonly base: number; readonly patience: number; readonly factor: number; readonly minLr: number };

export interface ScheduleState {
  lr: number;
  /** Best validation metric seen (plateau), and epochs since it improved. */
  best: number | null;
  badEpochs: number;
}

export function initialScheduleState(spec: ScheduleSpec): ScheduleState {
  if (!(spec.base > 0)) throw new InvalidArgumentError(`learning rate must be > 0, got ${spec.base}`);
  if (!(spec.factor > 0 && spec.factor < 1)) throw new InvalidArgumentError(`learning-rate factor must be in (0, 1), got ${spec.factor}`);
  return { lr: spec.base, best: null, badEpochs: 0 };
}

/** The learning rate for an epoch (0-based) under a step schedule. */
export function stepLearningRate(spec: Extract<ScheduleSpec, { kind: 'steps' }>, epoch: number): number {
  const drops = spec.dropEpochs.filter((e) => epoch >= e).length;
  return spec.base * spec.factor ** drops;
}

/**
 * Called when an epoch ends (with the validation metric, higher is better, or null when not validated);
 * returns the state for the next epoch.
 */
export function endEpoch(spec: ScheduleSpec, state: ScheduleState, finishedEpoch: number, metric: number | null): ScheduleState {
  if (spec.kind === 'steps') return { ...state, lr: stepLearningRate(spec, finishedEpoch + 1) };
  if (metric === null || !Number.isFinite(metric)) return state;
  if (state.best === null || metric > state.best) return { ...state, best: metric, badEpochs: 0 };
  const badEpochs = state.badEpochs + 1;
  if (badEpochs > spec.patience) return { lr: Math.max(spec.minLr, state.lr * spec.factor), best: state.best, badEpochs: 0 };
  return { ...state, badEpochs };
}
