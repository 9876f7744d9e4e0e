// Weight averaging: the element-wise mean of several checkpoints of one network (batch-norm running statistics
// included). Snapshots of one run taken along its last epochs, averaged, usually validate a little better than any
// one of them (stochastic weight averaging, Izmailov et al. 2018). `hourglass export --average` and
// `train --keep-epochs` (which keeps a snapshot per epoch) use it.
import { CheckpointMismatchError, InvalidArgumentError } from '../errors.js';
import { readCheckpoint, type Checkpoint, type StoredTensor } from './checkpoint.js';
import { sameShape } from './params.js';
import { parseSkeleton } from '../data/skeletons/index.js';

/**
 * Reads the checkpoints one at a time and returns their mean as a weights-only checkpoint (the first file's
 * config and skeleton; `meta.averageOf` lists the files). All must describe the same network with the same
 * joints and hold the same tensors; the first difference is refused with both files named.
 */
export function averageCheckpoints(paths: readonly string[]): Checkpoint {
  if (paths.length < 2) throw new InvalidArgumentError(`averaging needs at least two checkpoints, got ${paths.length}`);
  const first = readCheckpoint(paths[0]);
  const sums = new Map<string, { shape: readonly number[]; sum: Float64Array }>();
  for (const [name, t] of first.weights) sums.set(name, { shape: t.shape, sum: Float64Array.from(t.data) });
  const joints = (m: Checkpoint) => parseSkeleton(m.meta.skeleton)?.joints ?? null;
  const firstJoints = joints(first);
  for (const path of paths.slice(1)) {
    const c = readCheckpoint(path);
    const differs = (what: string, mine: unknown, theirs: unknown) =>
      new CheckpointMismatchError(`${path}: ${what} ${JSON.stringify(theirs)} differs from ${paths[0]}'s ${JSON.stringify(mine)}: only checkpoints of one network can be averaged`);
    if (JSON.stringify(c.config) !== JSON.stringify(first.config)) throw differs('network', first.config, c.config);
    if (JSON.stringify(joints(c)) !== JSON.stringify(firstJoints)) throw differs('joints', firstJoints, joints(c));
    for (const name of sums.keys()) if (!c.weights.has(name)) throw new CheckpointMismatchError(`${path}: tensor ${name} is missing (${paths[0]} has it)`);
    for (const [name, t] of c.weights) {
      const acc = sums.get(name);
      if (!acc) throw new CheckpointMismatchError(`${path}: tensor ${name} is not in ${paths[0]}`);
      if (!sameShape(t.shape, acc.shape)) throw differs(`tensor ${name} shape`, acc.shape, t.shape);
      for (let i = 0; i < t.data.length; i++) acc.sum[i] += t.data[i];
    }
  }
  const weights = new Map<string, StoredTensor>();
  for (const [name, { shape, sum }] of sums) weights.set(name, { shape, data: Float32Array.from(sum, (v) => v / paths.length) });
  const meta = { ...(first.meta.skeleton !== undefined ? { skeleton: first.meta.skeleton } : {}), averageOf: [...paths] };
  return { config: first.config, weights, state: new Map(), meta };
}
