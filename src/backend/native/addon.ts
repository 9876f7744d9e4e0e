// Finds and loads the compiled oneDNN addon (native/build/Release/hourglass_native.node) and types its functions.
// Every function reads and writes the Float32Arrays it is given in place; the TS kernels own allocation.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeInfo {
  /** oneDNN version, e.g. '2.6.3'. */
  readonly onednn: string;
  /** OpenMP threads oneDNN and the addon's loops use. */
  readonly threads: number;
  /** Instruction set oneDNN dispatches to, e.g. 'avx512_core'. */
  readonly isa: string;
}

/** Which convolution passes run in bf16 under precision bf16: those measured faster in it, or all. */
export type Bf16Layers = 'measured' | 'all';

/** The addon's exports (native/src/*.cc); geometry arrays are documented next to the kernels that build them. */
export interface NativeAddon {
  info(): NativeInfo;
  setNumThreads(n: number): void;
  /**
   * The convolutions' precision (native/src/precision.cc); 'bf16' throws where oneDNN has no native bf16 ISA. layers:
   * 'measured' (default) runs each convolution pass in bf16 only where its first calls measured bf16 faster, 'all'
   * runs every pass in bf16 (kernel tests).
   */
  setPrecision(precision: 'fp32' | 'bf16', layers?: Bf16Layers): void;
  /** bf16Layers: convolution passes measured so far under bf16; bf16Kept: those that kept bf16. */
  precisionInfo(): {
    readonly precision: 'fp32' | 'bf16';
    readonly nativeBf16: boolean;
    readonly isa: string;
    readonly bf16Layers: number;
    readonly bf16Kept: number;
    /** Which convolutions run in bf16 under bf16 (setPrecision's `layers`). */
    readonly bf16LayerMode: Bf16Layers;
  };
  /** Whether glibc malloc was tuned to reuse freed tensor memory (see native/src/addon.cc, tuneMalloc). */
  readonly mallocTuned: boolean;
  conv2d(x: Float32Array, filter: Float32Array, bias: Float32Array | null, y: Float32Array, geometry: Int32Array, relu: boolean): void;
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, geometry: Int32Array): void;
  /** With dbias ([outChannels]), also the bias gradient (sum of dy over N, H, W). */
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dfilter: Float32Array, geometry: Int32Array, dbias?: Float32Array | null): void;
  /** With relu, y = relu(bn(x)); mean and variance (biased) are x's. */
  batchNormTrain(
    x: Float32Array, gamma: Float32Array, beta: Float32Array,
    y: Float32Array, mean: Float32Array, variance: Float32Array, shape: Int32Array, epsilon: number, relu: boolean,
  ): void;
  batchNormInfer(
    x: Float32Array, mean: Float32Array, variance: Float32Array, gamma: Float32Array, beta: Float32Array,
    y: Float32Array, shape: Int32Array, epsilon: number, relu?: boolean,
  ): void;
  /** With beta, the backward of relu(bn(x)): dy is masked where the forward's output was not positive first. */
  batchNormGrad(
    x: Float32Array, dy: Float32Array, gamma: Float32Array, mean: Float32Array, variance: Float32Array,
    dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, shape: Int32Array, epsilon: number, beta: Float32Array | null,
  ): void;
  rmsprop(
    param: Float32Array, slot: Float32Array, grad: Float32Array, paramOut: Float32Array, slotOut: Float32Array,
    lr: number, alpha: number, epsilon: number,
  ): void;
  unary(op: number, x: Float32Array, y: Float32Array, alpha: number): void;
  reluGrad(dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array): void;
  binaryStrided(op: number, a: Float32Array, b: Float32Array, out: Float32Array, shape: Int32Array, aStrides: Int32Array, bStrides: Int32Array): void;
  addN(inputs: Float32Array[], out: Float32Array): void;
  maxPool(x: Float32Array, y: Float32Array, geometry: Int32Array): void;
  maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, geometry: Int32Array): void;
  resizeNearest(x: Float32Array, y: Float32Array, shape: Int32Array, rows: Int32Array, cols: Int32Array): void;
  resizeNearestGrad(dy: Float32Array, dx: Float32Array, shape: Int32Array, rows: Int32Array, cols: Int32Array): void;
  sumLeading(x: Float32Array, out: Float32Array, outer: number, inner: number): void;
  sumTrailing(x: Float32Array, out: Float32Array, outer: number, inner: number): void;
  /** A whole-network inference plan (native/src/infer.cc) from its description (InferPlanDescription). */
  createInferPlan(desc: InferPlanDescription): InferPlanHandle;
  /** Runs a plan: images [N, S, S, 3] -> heatmaps [N, S/4, S/4, K], both NHWC. */
  runInferPlan(plan: InferPlanHandle, images: Float32Array, heatmaps: Float32Array): void;
  /** Releases a plan's buffers, weights and primitives now (idempotent; else when the handle is collected). */
  freeInferPlan(plan: InferPlanHandle): void;
  describeInferPlan(plan: InferPlanHandle): InferPlanInfo;
}

/** An opaque handle to a native inference plan. */
export type InferPlanHandle = { readonly __inferPlan: unique symbol };

/** What native/src/infer.cc reads to build a plan (recorded by src/backend/native/plan.ts). */
export interface InferPlanDescription {
  readonly batch: number;
  /** Channels per block of the blocked layout (8 or 16). */
  readonly block: number;
  /** Convolutions on bf16 copies of their inputs with bf16 weights, f32 accumulation and outputs (native bf16 only). */
  readonly bf16?: boolean;
  /**
   * Which ops run on the OpenMP team and which on the calling thread alone: 'measured' (default; the faster of the two
   * per op, timed when the plan is built), 'team' (all on the team) or 'one' (all on one thread).
   */
  readonly threads?: 'measured' | 'team' | 'one';
  /** Per value, 5 ints: channels, height, width, buffer (>= 0 a plan buffer, -1 the input, -2 the output), layout (plan.ts Layout). */
  readonly values: Int32Array;
  /** Float count of each plan buffer. */
  readonly buffers: readonly number[];
  readonly ops: readonly InferPlanOp[];
}

/** One op of a plan: kind (plan.ts OpKind), source and destination value, and the kind's own fields. */
export interface InferPlanOp {
  readonly kind: number;
  readonly src: number;
  readonly dst: number;
  readonly [field: string]: number | boolean | Float32Array;
}

export interface InferPlanInfo {
  /** oneDNN's implementation of each convolution, in plan order. */
  readonly convImpls: string[];
  readonly activationBytes: number;
  readonly weightBytes: number;
  readonly ops: number;
  /** Convolutions that run in bf16 (a bf16 plan keeps the faster precision per geometry). */
  readonly bf16Convs: number;
  /** Ops that run on the calling thread alone (measured faster than the OpenMP team when the plan was built). */
  readonly singleThreadOps: number;
  /** OpenMP threads of the team when the plan was built. */
  readonly threads: number;
}

export type AddonLoad = { ok: true; addon: NativeAddon; path: string } | { ok: false; reason: string };

const ADDON_FILE = join('native', 'build', 'Release', 'hourglass_native.node');
/** Written by scripts/build-native.js when the build fails: its first line says why. */
const BUILD_LOG = join('native', 'build-native.log');

/** The package root: the first ancestor of this file that holds native/binding.gyp (works from src/ and dist/src/). */
function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'native', 'binding.gyp'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/**
 * The command that builds the addon where this copy of the package lives: in a user's project (the package under
 * node_modules/) `npm rebuild hourglass`, in a clone of the repository `npm run build:native`.
 */
export function nativeBuildCommand(root: string | null = packageRoot()): string {
  const installed = root !== null && root.split(/[\\/]/).includes('node_modules');
  return `apt-get install libdnnl-dev g++, then ${installed ? 'npm rebuild hourglass' : 'npm run build:native'}`;
}

/** Why the last build failed, from its log's first line ('' when there is no log). */
function lastBuildFailure(root: string): string {
  const log = join(root, BUILD_LOG);
  if (!existsSync(log)) return '';
  const first = readFileSync(log, 'utf8').split('\n', 1)[0].trim();
  return first ? `; the last build failed: ${first} (log: ${log})` : `; log of the last build: ${log}`;
}

let loaded: AddonLoad | null = null;

/**
 * OpenMP's default wait policy spins idle threads for a while after each parallel region. On a machine whose cores
 * are shared (data-loading workers, other processes) a spinning or descheduled team member stalls every region:
 * measured on 2 cores with one other busy process, a training step took 6.4 s spinning vs 1.2 s passive.
 * libgomp reads the environment once, when the addon pulls it in, so set it before loading; the user's setting wins.
 */
function defaultOpenMpEnvironment(): void {
  if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) {
    process.env.OMP_WAIT_POLICY = 'PASSIVE';
  }
}

/** Loads the addon once; HOURGLASS_NATIVE_ADDON may name another .node file. Never throws. */
export function loadAddon(): AddonLoad {
  if (loaded) return loaded;
  defaultOpenMpEnvironment();
  const root = packageRoot();
  const path = process.env.HOURGLASS_NATIVE_ADDON ?? (root ? join(root, ADDON_FILE) : null);
  if (path === null) {
    loaded = { ok: false, reason: `cannot find the package root (native/binding.gyp) above ${fileURLToPath(import.meta.url)}` };
  } else if (!existsSync(path)) {
    const failure = root && process.env.HOURGLASS_NATIVE_ADDON === undefined ? lastBuildFailure(root) : '';
    loaded = { ok: false, reason: `native addon not built: ${path} is missing${failure}; to build it: ${nativeBuildCommand(root)}` };
  } else {
    try {
      const addon = createRequire(import.meta.url)(path) as NativeAddon;
      loaded = { ok: true, addon, path };
    } catch (err) {
      const message = (err as Error).message.split('\n')[0];
      loaded = { ok: false, reason: `native addon ${path} failed to load: ${message}; to rebuild it: ${nativeBuildCommand(root)}` };
    }
  }
  return loaded;
}
