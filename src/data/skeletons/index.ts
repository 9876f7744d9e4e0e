// The built-in skeletons, and the skeleton a checkpoint was trained with (stored in its metadata by the trainer).
import { InvalidArgumentError } from '../../errors.js';
import { COCO17 } from './coco.js';
import { FLIC11 } from './flic.js';
import { LSP14 } from './lsp.js';
import { MPII16 } from './mpii.js';
import type { Skeleton } from './types.js';

export const BUILTIN_SKELETONS: readonly Skeleton[] = [LSP14, MPII16, FLIC11, COCO17];

function isPairList(v: unknown, k: number): v is [number, number][] {
  return Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && p.every((i) => Number.isInteger(i) && i >= 0 && i < k));
}

/** A skeleton read back from JSON (checkpoint metadata): a built-in id or a whole skeleton; null when neither. */
export function parseSkeleton(value: unknown): Skeleton | null {
  if (typeof value === 'string') return BUILTIN_SKELETONS.find((s) => s.id === value) ?? null;
  if (typeof value !== 'object' || value === null) return null;
  const s = value as Record<string, unknown>;
  const joints = s.joints;
  if (typeof s.id !== 'string' || !Array.isArray(joints) || !joints.every((j) => typeof j === 'string') || joints.length === 0) return null;
  const k = joints.length;
  if (!isPairList(s.flipPairs, k) || !isPairList(s.edges, k)) return null;
  const groups = Array.isArray(s.groups) ? s.groups : [];
  const groupsOk = groups.every((g) => typeof g === 'object' && g !== null && typeof (g as { name?: unknown }).name === 'string' &&
    Array.isArray((g as { joints?: unknown }).joints) && ((g as { joints: unknown[] }).joints).every((i) => Number.isInteger(i) && (i as number) >= 0 && (i as number) < k));
  if (!groupsOk) return null;
  return {
    id: s.id, joints: joints as string[], flipPairs: s.flipPairs, edges: s.edges,
    groups: groups as Skeleton['groups'],
    ...(Array.isArray(s.meanJoints) ? { meanJoints: s.meanJoints as number[] } : {}),
  };
}

/**
 * The skeleton of a model: the one stored in the checkpoint's metadata (`meta.skeleton`), else the built-in
 * skeleton with that many joints. Throws when neither exists (a custom model saved without its skeleton).
 */
export function skeletonForModel(meta: Record<string, unknown>, joints: number, source: string): Skeleton {
  const stored = parseSkeleton(meta.skeleton);
  if (stored) {
    if (stored.joints.length !== joints) {
      throw new InvalidArgumentError(`${source}: its skeleton ${stored.id} has ${stored.joints.length} joints, the network ${joints}`);
    }
    return stored;
  }
  const builtin = BUILTIN_SKELETONS.find((s) => s.joints.length === joints);
  if (!builtin) {
    throw new InvalidArgumentError(`${source}: no skeleton stored and no built-in skeleton has ${joints} joints; pass one with the skeleton option`);
  }
  return builtin;
}
