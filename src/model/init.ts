// Starting a network from another's weights (`hourglass train --init CKPT`): fine-tuning a trained model on new
// data, on another skeleton, at another input size, or GROWN into a deeper network that starts out computing exactly
// what the source computed:
//   - every tensor the two networks share (same name, same shape) is copied;
//   - extra residual modules per step (--modules above the source's) start as identities: their last convolution
//     is zero, so the block adds nothing to its input until training moves it;
//   - extra stacks start as copies of the source's last stack, joined by zero merge convolutions: the input of each
//     new stack equals the last stack's input, so every new stack predicts what the last one did;
//   - with another number of joints, the joint-dependent tensors (the heads' outputs, the heatmap merges) start
//     from their ordinary initialisation;
//   - a deeper hourglass (--depth above the source's) gains OUTER levels: the source's hourglass becomes the inner
//     part, one pooling further down, and the new levels' residual modules start as identities, so each new level
//     adds its input to the upsampled inner result. Not the source's function, but at twice the input size (the use:
//     a 128-px model run at 256 px) the source's levels see the map size they were trained on.
// Weights are independent of the input size, so that may change freely. Features must match, and the network may
// not be smaller than the source (nothing is dropped silently).
import { tf } from '../tf.js';
import { InvalidArgumentError } from '../errors.js';
import type { HourglassConfig } from './config.js';
import { sameShape, type ParamStore } from './params.js';
import type { StoredTensor } from './checkpoint.js';

export interface InitReport {
  /** Tensors copied from the source (new stacks' copies included). */
  readonly copied: number;
  /** Residual modules that start as identities. */
  readonly identityModules: number;
  /** Stacks added after the source's last one. */
  readonly addedStacks: number;
  /** Tensors left at their initialisation because the joint count changed. */
  readonly fresh: readonly string[];
  /** One line for the console. */
  readonly summary: string;
}

const BLOCK = /\.(\d+)\.(bn1|conv1|bn2|conv2|bn3|conv3|skip)\./;
const JOINT_DEPENDENT = /(\.head\.out\.(weight|bias)|\.mergeHeatmaps\.weight)$/;

/** A tensor's stack (`stack1.mergeFeatures.weight`: 1) and whether it belongs to the merges into the next stack; null outside the stacks. */
function stackOf(name: string): { index: number; merge: boolean } | null {
  const m = /^stack(\d+)\.([A-Za-z]+)/.exec(name);
  return m ? { index: Number(m[1]), merge: m[2] === 'mergeFeatures' || m[2] === 'mergeHeatmaps' } : null;
}

/**
 * Fills `params` (a network of config `target`) from a checkpoint's weights (`source` config), as described above;
 * `freshHeads` re-initialises the joint-dependent tensors even when the joint count is the same (other joints).
 * Errors name `sourceName` and what does not fit.
 */
export function initialiseFrom(
  params: ParamStore, target: HourglassConfig, source: { config: HourglassConfig; weights: ReadonlyMap<string, StoredTensor> }, sourceName: string,
  options: { freshHeads?: boolean } = {},
): InitReport {
  const s = source.config;
  const refuse = (what: string): never => {
    throw new InvalidArgumentError(`--init ${sourceName}: ${what}`);
  };
  if (target.features !== s.features) refuse(`it has ${s.features} features, this network ${target.features} (widening is not supported)`);
  if (target.depth < s.depth) refuse(`its hourglasses have depth ${s.depth}, this network's only ${target.depth} (give --depth ${s.depth} or more)`);
  if (target.stacks < s.stacks) refuse(`it has ${s.stacks} stacks, this network only ${target.stacks} (give --stacks ${s.stacks} or more)`);
  if (target.modules < s.modules) refuse(`it has ${s.modules} modules per step, this network only ${target.modules} (give --modules ${s.modules} or more)`);
  // Another joint count, or the same count of other joints (options.freshHeads): the heads start over.
  const jointsChanged = target.joints !== s.joints || Boolean(options.freshHeads);
  const used = new Set<string>();
  const fresh: string[] = [];
  const identity = new Set<string>();
  let copied = 0;
  // With added depth the source's `stackK.hg.X` is this network's `stackK.hg.inner.(...)X`; null: a new outer level.
  const innerPrefix = 'inner.'.repeat(target.depth - s.depth);
  const sourceDepthName = (name: string): string | null => {
    const m = /^(stack\d+\.hg\.)(.*)$/.exec(name);
    if (!m || !innerPrefix) return name;
    return m[2].startsWith(innerPrefix) ? m[1] + m[2].slice(innerPrefix.length) : null;
  };
  for (const spec of params.specs) {
    const name = spec.name;
    const stack = stackOf(name);
    const depthName = sourceDepthName(name);
    if (stack?.merge && stack.index >= s.stacks - 1) {
      tf.tidy(() => params.update(name, tf.zeros([...spec.shape])));
      continue;
    }
    const block = BLOCK.exec(name);
    if (depthName === null || (block && Number(block[1]) >= s.modules)) {
      // A module the source lacks (a new outer level's, or one more per step): identity (zero last convolution),
      // the rest at its initialisation.
      if (block) {
        identity.add(`${name.slice(0, block.index)}.${block[1]}`);
        if (block[2] === 'conv3') tf.tidy(() => params.update(name, tf.zeros([...spec.shape])));
      }
      continue;
    }
    if (jointsChanged && JOINT_DEPENDENT.test(name)) {
      fresh.push(name);
      continue;
    }
    const from = stack && stack.index >= s.stacks ? depthName.replace(/^stack\d+\./, `stack${s.stacks - 1}.`) : depthName;
    const stored = source.weights.get(from);
    if (!stored) refuse(`tensor ${from} is missing`);
    const st = stored as StoredTensor;
    if (!sameShape(st.shape, spec.shape)) {
      refuse(`tensor ${from} has shape [${st.shape.join(', ')}], this network's ${name} [${spec.shape.join(', ')}]`);
    }
    tf.tidy(() => params.update(name, tf.tensor(st.data, [...st.shape], 'float32')));
    used.add(from);
    copied += 1;
  }
  for (const name of source.weights.keys()) {
    if (!used.has(name) && !(jointsChanged && JOINT_DEPENDENT.test(name))) refuse(`tensor ${name} has no place in this network`);
  }
  const addedStacks = target.stacks - s.stacks;
  const parts = [`${copied} tensors copied`];
  if (identity.size) parts.push(`${identity.size} new residual modules start as identities`);
  if (addedStacks) parts.push(`${addedStacks} new stack(s) start as copies of stack ${s.stacks}`);
  if (target.depth > s.depth) parts.push(`hourglass depth ${s.depth} -> ${target.depth}: the source's hourglasses are the inner levels`);
  if (fresh.length) parts.push(`${fresh.length} joint-dependent tensors start fresh (${s.joints} -> ${target.joints} joints${target.joints === s.joints ? ', other joints' : ''})`);
  return { copied, identityModules: identity.size, addedStacks, fresh, summary: parts.join('; ') };
}

/**
 * The first `stacks` stacks of a checkpoint as a network of its own: the stem and those stacks' tensors, without the
 * merges that fed the next stack. Stack k of a stacked hourglass is trained (intermediate supervision) to predict
 * heatmaps from its own output, so its prefix is a complete network; the person detector starts from the first stack
 * of the pose model this way (scripts/train-detector.js --init).
 */
export function firstStacks(
  source: { config: HourglassConfig; weights: ReadonlyMap<string, StoredTensor> }, stacks: number, sourceName: string,
): { config: HourglassConfig; weights: Map<string, StoredTensor> } {
  if (!Number.isInteger(stacks) || stacks < 1) throw new InvalidArgumentError(`the number of stacks to keep must be a positive integer, got ${stacks}`);
  if (stacks > source.config.stacks) throw new InvalidArgumentError(`${sourceName} has ${source.config.stacks} stack(s), not ${stacks}`);
  const weights = new Map<string, StoredTensor>();
  for (const [name, tensor] of source.weights) {
    const stack = stackOf(name);
    if (stack && (stack.index >= stacks || (stack.merge && stack.index === stacks - 1))) continue;
    weights.set(name, tensor);
  }
  return { config: { ...source.config, stacks }, weights };
}
