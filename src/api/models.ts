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

/** A bundled network: one checkpoint file. */
export interface BundledNetwork {
  readonly name: string;
  /** Checkpoint path inside the installed package. */
  readonly path: string;
  /** Skeleton id of its joints (src/data/skeletons). */
  readonly skeleton: string;
  readonly description: string;
}

/** A bundled ensemble: bundled networks (by name) whose heatmaps are averaged (src/inference/ensemble.ts). */
export interface BundledEnsemble {
  readonly name: string;
  readonly members: readonly string[];
  readonly skeleton: string;
  readonly description: string;
}

export type BundledModel = BundledNetwork | BundledEnsemble;

export function isBundledEnsemble(model: BundledModel): model is BundledEnsemble {
  return 'members' in model;
}

function packaged(file: string): string {
  return fileURLToPath(new URL(`../../../models/${file}`, import.meta.url));
}

/** The default first. */
export const BUNDLED_MODELS: readonly BundledModel[] = Object.freeze([
  { name: 'lsp14', path: packaged('lsp14.ckpt'), skeleton: 'lsp14', description: 'LSP-14 full body (4 stacks, 128 features, 128 px)' },
  { name: 'flic', path: packaged('flic.ckpt'), skeleton: 'flic11', description: 'FLIC upper body (2 stacks, 256 features, 256 px)' },
  { name: 'lsp14-256', path: packaged('lsp14-256.ckpt'), skeleton: 'lsp14', description: 'LSP-14 full body at 256 px (4 stacks, 128 features, depth 5)' },
  { name: 'lsp14-ensemble', members: ['lsp14', 'lsp14-256'], skeleton: 'lsp14', description: 'LSP-14 full body: lsp14 and lsp14-256, heatmaps averaged' },
]);

/**
 * The bundled person detector (src/detect/): what estimatePose and `hourglass predict` search images with when no
 * box is given (docs/people.md). Not a pose model, so not among BUNDLED_MODELS.
 */
export const PERSON_DETECTOR: BundledNetwork = Object.freeze({
  name: 'person', path: packaged('person.ckpt'), skeleton: 'person-detector', description: 'person detector (1 stack, 128 features, 128 px)',
});

function bundledNetwork(name: string): BundledNetwork {
  const m = bundledModel(name);
  if (!m || isBundledEnsemble(m)) throw new Error(`internal: no bundled network '${name}'`);
  return m;
}

/** The default model (LSP-14 full body). */
export const DEFAULT_MODEL = bundledNetwork('lsp14');

/** The pose network the person search's thresholds were chosen with (docs/models/person.md): the bundled lsp14. */
export const PEOPLE_SEARCH_MODEL = bundledNetwork('lsp14');

export function bundledModel(name: string): BundledModel | undefined {
  return BUNDLED_MODELS.find((m) => m.name === name);
}

/** The bundled model for a skeleton id, if one is shipped (the first listed: the default of those joints). */
export function bundledModelFor(skeletonId: string): BundledModel | undefined {
  return BUNDLED_MODELS.find((m) => m.skeleton === skeletonId);
}

/** The checkpoint file of a bundled network; a missing file is an error saying so. */
export function bundledNetworkPath(network: BundledNetwork): string {
  if (!existsSync(network.path)) {
    throw new InvalidArgumentError(`the bundled model '${network.name}' is missing (${network.path}); reinstall the package or give a checkpoint path`);
  }
  return network.path;
}

/** The checkpoint files of a bundled model: one network's, or an ensemble's members'. */
export function bundledModelPaths(model: BundledModel): string[] {
  return isBundledEnsemble(model) ? model.members.map((name) => bundledNetworkPath(bundledNetwork(name))) : [bundledNetworkPath(model)];
}

/** The bundled models' names, comma-separated; networksOnly: without the ensembles (for options that take one network). */
export function bundledNames(networksOnly = false): string {
  return BUNDLED_MODELS.filter((m) => !networksOnly || !isBundledEnsemble(m)).map((m) => m.name).join(', ');
}

/**
 * The checkpoint path of one network `spec` names (undefined: the default model): the bundled network of that name
 * (unless a file of that name exists here, which wins), else `spec` itself as a path. A bundled ensemble's name is an
 * error: it is several files (modelSpecPaths).
 */
export function resolveModelPath(spec?: string): string {
  if (spec === undefined) return bundledNetworkPath(DEFAULT_MODEL);
  const bundled = bundledModel(spec);
  if (!bundled || existsSync(spec)) return spec;
  if (isBundledEnsemble(bundled)) {
    throw new InvalidArgumentError(`'${spec}' is a bundled ensemble of ${bundled.members.join(', ')}, not one network: name one of them`);
  }
  return bundledNetworkPath(bundled);
}

/** resolveModelPath, for a model about to be loaded: a path that does not exist is an error listing the bundled names. */
export function existingModelPath(spec?: string): string {
  const path = resolveModelPath(spec);
  if (!existsSync(path)) {
    throw new FileFormatError(path, `checkpoint file not found, and not a bundled model's name (${bundledNames()})`);
  }
  return path;
}

/**
 * The checkpoint files of a pose model spec: one model (a path or a bundled name; a bundled ensemble's name gives its
 * members), or an ensemble of several joined by commas ('lsp14,runs/mine.ckpt'; a file whose own name holds a comma
 * is taken whole). Each must exist.
 */
export function modelSpecPaths(spec?: string): string[] {
  const bundled = spec === undefined ? undefined : bundledModel(spec);
  if (spec !== undefined && bundled && isBundledEnsemble(bundled) && !existsSync(spec)) return bundledModelPaths(bundled);
  if (spec === undefined || existsSync(spec) || bundled || !spec.includes(',')) return [existingModelPath(spec)];
  const parts = spec.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw new InvalidArgumentError(`model '${spec}': an ensemble is checkpoints or bundled names joined by commas, with none empty`);
  const paths = parts.flatMap((p) => modelSpecPaths(p));
  if (paths.length > MAX_MEMBERS) throw new InvalidArgumentError(`model '${spec}': at most ${MAX_MEMBERS} networks in an ensemble, got ${paths.length}`);
  return paths;
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
