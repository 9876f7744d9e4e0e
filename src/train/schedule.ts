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

/** Lowest rate a plateau schedule drops to: 1/1000 of its base rate. */
export function plateauFloor(base: number): number {
  return base * 1e-3;
}

export function initialScheduleState(spec: ScheduleSpec): ScheduleState {
  if (!(spec.base > 0)) throw new InvalidArgumentError(`learning rate must be > 0, got ${spec.base}`);
  if (!(spec.factor > 0 && spec.factor < 1)) throw new InvalidArgumentError(`learning-rate factor must be in (0, 1), got ${spec.factor}`);
  return { lr: spec.base, best: null, badEpochs: 0 };
}

/** The share of the scheduled rate used at a (0-based) global step while warming up over `warmupSteps`. */
export function warmupFactor(globalStep: number, warmupSteps: number | undefined): number {
  return warmupSteps && globalStep < warmupSteps ? (globalStep + 1) / warmupSteps : 1;
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

/** A change of schedule when a run is resumed (`hourglass train --resume DIR --lr 1e-4 --lr-drop 40`). */
export interface ScheduleChange {
  /** The rate from now on (default: the rate the run had reached). */
  readonly lr?: number;
  /** Drop epochs (1-based, "after epoch e"), all still to come: switches to a step schedule. */
  readonly dropEpochs?: readonly number[];
  readonly factor?: number;
  /** Plateau patience: switches to (or keeps) a plateau schedule. */
  readonly plateau?: number;
}

/**
 * The schedule of a resumed run after `change`, from epoch `epoch` (0-based, the one in progress) on: the new rate
 * applies at once, drops given must all lie ahead, the plateau counter restarts (the best metric is kept).
 */
export function reschedule(spec: ScheduleSpec, state: ScheduleState, epoch: number, change: ScheduleChange): { spec: ScheduleSpec; state: ScheduleState } {
  if (change.plateau !== undefined && change.dropEpochs !== undefined) throw new InvalidArgumentError('give either --lr-drop or --plateau, not both');
  const base = change.lr ?? state.lr;
  const factor = change.factor ?? spec.factor;
  let next: ScheduleSpec;
  if (change.plateau !== undefined || (change.dropEpochs === undefined && spec.kind === 'plateau')) {
    const patience = change.plateau ?? (spec.kind === 'plateau' ? spec.patience : 0);
    const minLr = spec.kind === 'plateau' ? Math.min(spec.minLr, plateauFloor(base)) : plateauFloor(base);
    next = { kind: 'plateau', base, patience, factor, minLr };
  } else {
    const dropEpochs = change.dropEpochs ?? (spec.kind === 'steps' ? spec.dropEpochs.filter((e) => e > epoch) : []);
    for (const e of dropEpochs) {
      if (!(Number.isInteger(e) && e > epoch)) {
        throw new InvalidArgumentError(`--lr-drop ${e}: epoch ${e} has already ended (the run is in epoch ${epoch + 1}); drops must lie ahead`);
      }
    }
    next = { kind: 'steps', base, dropEpochs: [...dropEpochs].sort((a, b) => a - b), factor };
  }
  const fresh = initialScheduleState(next);
  return { spec: next, state: { ...fresh, best: state.best } };
}
