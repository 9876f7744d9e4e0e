// A skeleton is data: joint names in order, left/right pairs for flipping, PCK groups and drawing edges.

export interface Skeleton {
  /** Short identifier, e.g. 'lsp14'. */
  readonly id: string;
  /** Joint names in the order of the dataset's annotation arrays and the network's heatmap channels. */
  readonly joints: readonly string[];
  /** Pairs of joint indices that swap under a horizontal flip (left <-> right). */
  readonly flipPairs: readonly (readonly [number, number])[];
  /** Report groups (e.g. 'wrist' -> [right wrist, left wrist]), in the order the paper's tables use. */
  readonly groups: readonly { readonly name: string; readonly joints: readonly number[] }[];
  /** Joints the mean of a PCK table pools (default: all joints). */
  readonly meanJoints?: readonly number[];
  /** Limbs to draw, as pairs of joint indices. */
  readonly edges: readonly (readonly [number, number])[];
}

/** For each joint, the index of its mirror image (itself for centre joints). */
export function flipPermutation(skeleton: Skeleton): number[] {
  const perm = skeleton.joints.map((_, i) => i);
  for (const [a, b] of skeleton.flipPairs) {
    perm[a] = b;
    perm[b] = a;
  }
  return perm;
}

/** Index of a joint by name; throws with the allowed names when absent. */
export function jointIndex(skeleton: Skeleton, name: string): number {
  const i = skeleton.joints.indexOf(name);
  if (i < 0) throw new Error(`skeleton ${skeleton.id} has no joint '${name}' (joints: ${skeleton.joints.join(', ')})`);
  return i;
}
