// The models shipped in the package (a card each in docs/models/), by name: `--model flic` and
// createEstimator({ model: 'flic' }) take a bundled model, any other string is a checkpoint path; `hourglass eval`
// picks the bundled model of the dataset's skeleton when no model is given.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FileFormatError, InvalidArgumentError } from '../errors.js';
import { loadModel, type Checkpoint } from '../model/checkpoint.js';
import type { HourglassModel } from '../model/model.js';
import { Ensemble, MAX_MEMBERS, type PoseNetwork } from '../inference/ensemble.js';
import { parseSkeleton } from '../data/skeletons/index.js';

export interface BundledModel {
  readonly name: string;
  /** Checkpoint path inside the installed package. */
  readonly path: string;
  /** Skeleton id of its joints (src/data/skeletons). */
  readonly skeleton: string;
  readonly description: string;
}

function packaged(file: string): string {
  return fileURLToPath(new URL(`../../../models/${file}`, import.meta.url));
}

/** The default first. */
export const BUNDLED_MODELS: readonly BundledModel[] = Object.freeze([
  { name: 'lsp14', path: packaged('lsp14.ckpt'), skeleton: 'lsp14', description: 'LSP-14 full body (4 stacks, 128 features, 128 px)' },
  { name: 'flic', path: packaged('flic.ckpt'), skeleton: 'flic11', description: 'FLIC upper body (2 stacks, 256 features, 256 px)' },
]);

/**
 * The bundled person detector (src/detect/): what estimatePose and `hourglass predict` search images with when no
 * box is given (docs/people.md). Not a pose model, so not among BUNDLED_MODELS.
 */
export const PERSON_DETECTOR: BundledModel = Object.freeze({
  name: 'person', path: packaged('person.ckpt'), skeleton: 'person-detector', description: 'person detector (1 stack, 128 features, 128 px)',
});

/** The default model (LSP-14 full body). */
export const DEFAULT_MODEL = BUNDLED_MODELS[0];

/** The pose network the person search's thresholds were chosen with (docs/models/person.md): the bundled lsp14. */
export const PEOPLE_SEARCH_MODEL = BUNDLED_MODELS.find((m) => m.name === 'lsp14') as BundledModel;

export function bundledModel(name: string): BundledModel | undefined {
  return BUNDLED_MODELS.find((m) => m.name === name);
}

/** The bundled model for a skeleton id, if one is shipped. */
export function bundledModelFor(skeletonId: string): BundledModel | undefined {
  return BUNDLED_MODELS.find((m) => m.skeleton === skeletonId);
}

/** The checkpoint file of a bundled model; a missing file is an error saying so. */
export function bundledModelPath(model: BundledModel): string {
  if (!existsSync(model.path)) {
    throw new InvalidArgumentError(`the bundled model '${model.name}' is missing (${model.path}); reinstall the package or give a checkpoint path`);
  }
  return model.path;
}

/**
 * A checkpoint path for `spec` (undefined: the default model): the bundled model of that name (unless a file of
 * that name exists here, which wins), else `spec` itself as a path.
 */
export function resolveModelPath(spec?: string): string {
  if (spec === undefined) return bundledModelPath(DEFAULT_MODEL);
  const bundled = bundledModel(spec);
  return bundled && !existsSync(spec) ? bundledModelPath(bundled) : spec;
}

/** resolveModelPath, for a model about to be loaded: a path that does not exist is an error listing the bundled names. */
export function existingModelPath(spec?: string): string {
  const path = resolveModelPath(spec);
  if (!existsSync(path)) {
    throw new FileFormatError(path, `checkpoint file not found, and not a bundled model's name (${BUNDLED_MODELS.map((m) => m.name).join(', ')})`);
  }
  return path;
}

/**
 * The checkpoint files of a pose model spec: one model (a path or a bundled name), or an ensemble of several joined by
 * commas ('lsp14,runs/mine.ckpt'; a file whose own name holds a comma is taken whole). Each must exist.
 */
export function modelSpecPaths(spec?: string): string[] {
  if (spec === undefined || existsSync(spec) || bundledModel(spec) || !spec.includes(',')) return [existingModelPath(spec)];
  const parts = spec.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw new InvalidArgumentError(`model '${spec}': an ensemble is checkpoints or bundled names joined by commas, with none empty`);
  if (parts.length > MAX_MEMBERS) throw new InvalidArgumentError(`model '${spec}': at most ${MAX_MEMBERS} networks in an ensemble, got ${parts.length}`);
  return parts.map((p) => existingModelPath(p));
}

/**
 * Loads a pose model spec (modelSpecPaths): one network, or an Ensemble of them (src/inference/ensemble.ts) whose
 * members must store the same skeleton. `meta` is the (first) checkpoint's.
 */
export function loadPoseNetwork(spec?: string): { model: PoseNetwork; meta: Record<string, unknown>; paths: string[] } {
  const paths = modelSpecPaths(spec);
  const loaded: { model: HourglassModel; checkpoint: Checkpoint }[] = [];
  try {
    for (const path of paths) loaded.push(loadModel(path));
    if (loaded.length === 1) return { model: loaded[0].model, meta: loaded[0].checkpoint.meta, paths };
    // The joints each checkpoint stores (unknown when it stores none: then the joint counts must agree, Ensemble).
    const joints = (meta: Record<string, unknown>) => parseSkeleton(meta.skeleton);
    const first = joints(loaded[0].checkpoint.meta);
    loaded.forEach(({ checkpoint }, i) => {
      const own = joints(checkpoint.meta);
      if (first && own && own.joints.join() !== first.joints.join()) {
        throw new InvalidArgumentError(`ensemble: ${paths[i]} predicts the joints of ${own.id}, ${paths[0]} those of ${first.id}: members must predict the same joints`);
      }
    });
    return { model: new Ensemble(loaded.map((l) => l.model)), meta: loaded[0].checkpoint.meta, paths };
  } catch (err) {
    for (const l of loaded) l.model.dispose();
    throw err;
  }
}
