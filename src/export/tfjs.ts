// Export to a TensorFlow.js LayersModel (`model.json` + `weights.bin`) that the browser and tfjs-node load with
// `tf.loadLayersModel`: the network's own forward pass (src/model/network.ts) wired as standard Keras layers only
// (InputLayer, ZeroPadding2D, Conv2D, BatchNormalization, Activation, MaxPooling2D, UpSampling2D, Add), so that no
// custom layer has to be registered to load it. Its single output is the last stack's heatmaps.
//
// Batch norms are FOLDED, exactly as HourglassModel.predict folds them (src/model/fold.ts, same foldPairs and the
// same arithmetic): every conv -> BN -> ReLU becomes one Conv2D with the folded kernel and bias and a ReLU
// activation, which tfjs-layers runs as one fused conv2d (bias and ReLU as post-ops) on every backend. That removes
// two of the three batch norms of every residual (and the stem's and heads'), each a separate pass over the
// activations, and the output equals predict()'s (same folded weights, same fused ops), not just the unfolded forward.
// BN1 of each pre-activation residual cannot be folded (it normalises the block's input, which the skip path also
// reads unnormalised), so it stays a real BatchNormalization layer with the trained running statistics and
// epsilon (exact, and what any Keras reader understands) followed by an Activation('relu').
//
// TensorFlow.js enters the project through src/tf.ts, which exports tfjs-core only; the layers API lives in the
// umbrella package '@tensorflow/tfjs' that src/tf.ts already loads (one shared tfjs-core, so one engine and one
// backend), and is imported here, after src/tf.ts, for its layers/model/loader functions.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import '../tf.js';
import * as tfjs from '@tensorflow/tfjs';
import { FileFormatError, InvalidArgumentError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { storesAsHalf, toHalf } from '../util/half.js';
import type { HourglassConfig } from '../model/config.js';
import { heatmapSize } from '../model/config.js';
import { FoldedParams } from '../model/fold.js';
import type { NetworkGraph } from '../model/graph.js';
import { BN_EPSILON, type BatchNorm, type Conv } from '../model/layers.js';
import type { HourglassModel } from '../model/model.js';
import type { ParamStore } from '../model/params.js';
import { BUILTIN_SKELETONS } from '../data/skeletons/index.js';
import { TFJS_FILES, TFJS_INFO_FORMAT } from './tfjs-files.js';

export { TFJS_FILES };

/** Name of the model's input layer and of the model itself in model.json. */
const INPUT_NAME = 'image';
const MODEL_NAME = 'hourglass';

type Symbolic = tfjs.SymbolicTensor;

/** Skeleton details written beside the model when the checkpoint carries them. */
export interface ExportedSkeleton {
  readonly id?: string;
  readonly joints: readonly string[];
  readonly flipPairs?: readonly (readonly [number, number])[];
  readonly edges?: readonly (readonly [number, number])[];
}

export interface TfjsExportOptions {
  /** The checkpoint's metadata; `meta.skeleton` (a built-in id or a skeleton object) names the heatmap channels. */
  readonly meta?: Readonly<Record<string, unknown>>;
  /**
   * 'float16' stores the kernels (weights of rank 2 or more) as float16 with TF.js's own `quantization: { dtype:
   * 'float16' }` manifest entry, which tf.loadLayersModel expands to float32: half the download. Default 'float32'.
   */
  readonly precision?: 'float32' | 'float16';
}

export interface TfjsExportResult {
  /** The folder written to (absolute). */
  readonly dir: string;
  /** The files written, absolute paths: model.json, weights.bin, hourglass.json. */
  readonly files: string[];
  /** Bytes written, all files together. */
  readonly bytes: number;
}

function apply(layer: tfjs.layers.Layer, x: Symbolic | Symbolic[]): Symbolic {
  return layer.apply(x) as Symbolic;
}

/**
 * The network's forward pass (network.ts) wired as Keras layers, each created with its weights set; the caller owns
 * the model built from it.
 */
class LayersGraph implements NetworkGraph<Symbolic> {
  constructor(private readonly params: ParamStore, private readonly folded: FoldedParams) {}

  /** Conv.apply: same padding rule ('valid' for 1x1, 'same' at stride 1, explicit symmetric (k-1)/2 otherwise). */
  conv(c: Conv, x: Symbolic): Symbolic {
    const folded = this.folded.conv(c.name);
    let input = x;
    let padding: 'valid' | 'same' = c.kernel === 1 ? 'valid' : 'same';
    if (c.kernel !== 1 && c.stride !== 1) {
      // TF's 'same' pads asymmetrically at stride 2 (2 before, 3 after for 7x7); PyTorch and network.ts pad 3 both sides.
      input = apply(tfjs.layers.zeroPadding2d({ padding: (c.kernel - 1) / 2, name: `${c.name}.pad` }), x);
      padding = 'valid';
    }
    const layer = tfjs.layers.conv2d({
      name: c.name,
      filters: c.outChannels,
      kernelSize: c.kernel,
      strides: c.stride,
      padding,
      useBias: true,
      activation: folded ? 'relu' : 'linear',
      kernelInitializer: 'zeros',
      biasInitializer: 'zeros',
    });
    const y = apply(layer, input);
    layer.setWeights(folded
      ? [folded.filter, folded.bias]
      : [this.params.get(`${c.name}.weight`), this.params.get(`${c.name}.bias`)]);
    return y;
  }

  /** BatchNorm.apply(relu = true) in inference: nothing when folded into the conv before it, else BN + ReLU layers. */
  bnRelu(b: BatchNorm, x: Symbolic): Symbolic {
    if (this.folded.absorbs(b.name)) return x;
    const layer = tfjs.layers.batchNormalization({ name: b.name, axis: -1, epsilon: BN_EPSILON, center: true, scale: true });
    const y = apply(layer, x);
    const p = (suffix: string) => this.params.get(`${b.name}.${suffix}`);
    // tfjs-layers' weight order: gamma, beta, moving mean, moving variance.
    layer.setWeights([p('gamma'), p('beta'), p('runningMean'), p('runningVar')]);
    return apply(tfjs.layers.activation({ activation: 'relu', name: `${b.name}.relu` }), y);
  }

  maxPool2(x: Symbolic, name: string): Symbolic {
    return apply(tfjs.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid', name }), x);
  }

  upsampleAdd(low: Symbolic, up: Symbolic, name: string): Symbolic {
    // resizeNearestNeighbor to twice the side (network.ts) == UpSampling2D(2, nearest): both take source pixel floor(i / 2).
    const upsampled = apply(tfjs.layers.upSampling2d({ size: [2, 2], interpolation: 'nearest', name: `${name}.upsample` }), low);
    return apply(tfjs.layers.add({ name: `${name}.add` }), [up, upsampled]);
  }

  add(x: Symbolic, onto: Symbolic, name: string): Symbolic {
    return apply(tfjs.layers.add({ name }), [x, onto]);
  }

  sum(terms: Symbolic[], name: string): Symbolic {
    return apply(tfjs.layers.add({ name }), terms);
  }
}

/**
 * The model as an in-memory tf.LayersModel: input `image` [N, S, S, 3] RGB in [0, 1] (NHWC), output the last
 * stack's heatmaps [N, S/4, S/4, K]; batch norms folded as predict() folds them. The caller disposes it.
 */
export function toLayersModel(model: HourglassModel): tfjs.LayersModel {
  const { network, params, config } = model;
  const folded = FoldedParams.fold(network, params);
  try {
    const image = tfjs.input({ shape: [config.inputSize, config.inputSize, 3], name: INPUT_NAME, dtype: 'float32' });
    const heatmaps = network.forward(new LayersGraph(params, folded), image);
    return tfjs.model({ inputs: image, outputs: heatmaps[heatmaps.length - 1], name: MODEL_NAME });
  } finally {
    folded.dispose();
  }
}

/** Reads `meta.skeleton` leniently: a built-in skeleton's id, or an object with joint names; null otherwise. */
export function exportedSkeleton(meta: Readonly<Record<string, unknown>> | undefined, joints: number): ExportedSkeleton | null {
  const value = meta?.['skeleton'];
  let found: ExportedSkeleton | null = null;
  if (typeof value === 'string') {
    const builtin = BUILTIN_SKELETONS.find((s) => s.id === value);
    found = builtin ? { id: builtin.id, joints: builtin.joints, flipPairs: builtin.flipPairs, edges: builtin.edges } : null;
  } else if (typeof value === 'object' && value !== null) {
    const s = value as Record<string, unknown>;
    const names = s['joints'];
    if (Array.isArray(names) && names.length > 0 && names.every((j) => typeof j === 'string')) {
      const k = names.length;
      const pairs = (v: unknown) => (Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 &&
        p.every((i) => Number.isInteger(i) && i >= 0 && i < k)) ? (v as [number, number][]) : undefined);
      const flipPairs = pairs(s['flipPairs']);
      const edges = pairs(s['edges']);
      found = {
        ...(typeof s['id'] === 'string' ? { id: s['id'] } : {}),
        joints: names as string[],
        ...(flipPairs ? { flipPairs } : {}),
        ...(edges ? { edges } : {}),
      };
    }
  }
  // Names that do not match the heatmap channels would mislabel them: leave them out.
  return found && found.joints.length === joints ? found : null;
}

/** What hourglass.json holds: the config, the joints, and the input/output conventions. */
export function exportInfo(config: HourglassConfig, skeleton: ExportedSkeleton | null): Record<string, unknown> {
  const s = config.inputSize;
  const hm = heatmapSize(config);
  return {
    format: TFJS_INFO_FORMAT,
    version: 1,
    config: { ...config },
    ...(skeleton ? { skeleton } : {}),
    input: {
      name: INPUT_NAME,
      shape: [null, s, s, 3],
      layout: 'NHWC',
      description: 'RGB image crop around the person, float32 in [0, 1] (pixel / 255), no mean subtraction',
    },
    output: {
      shape: [null, hm, hm, config.joints],
      layout: 'NHWC',
      description: `heatmaps of the last of ${config.stacks} stack(s), channel k = joint k; a joint is at its channel's ` +
        `peak, in heatmap pixels (x ${s / hm} for input pixels), the peak value its confidence`,
    },
    batchNorm: 'folded into the convolutions where a conv is followed by BN + ReLU; the residuals\' first BN kept as BatchNormalization layers',
    files: { model: TFJS_FILES.model, weights: [TFJS_FILES.weights] },
  };
}

/**
 * Writes the model as a TF.js LayersModel into `dir` (created if needed): model.json, weights.bin and
 * hourglass.json (config, joint names, conventions). Each file is written atomically; model.json last, so a
 * model.json always refers to complete weights. Other files in `dir` are left alone.
 */
export async function exportTfjs(model: HourglassModel, dir: string, options: TfjsExportOptions = {}): Promise<TfjsExportResult> {
  const out = resolve(dir);
  if (existsSync(out) && !statSync(out).isDirectory()) {
    throw new InvalidArgumentError(`export folder ${out} exists and is not a folder`);
  }
  const skeleton = exportedSkeleton(options.meta, model.config.joints);
  const info = exportInfo(model.config, skeleton);
  const layers = toLayersModel(model);
  let artifacts: tfjs.io.ModelArtifacts | null = null;
  try {
    // Goes along with loadLayersModel's own reading: whatever the layers API serialises (topology, weight specs).
    layers.setUserDefinedMetadata({ hourglass: info as object });
    await layers.save(tfjs.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: tfjs.io.getModelArtifactsInfoForJSON(a) };
    }));
  } finally {
    layers.dispose();
  }
  const saved = artifacts as tfjs.io.ModelArtifacts | null;
  if (!saved || !saved.weightSpecs || saved.weightData === undefined) throw new Error('tfjs save handler received no weights');
  const float32 = new Uint8Array(new tfjs.io.CompositeArrayBuffer(saved.weightData).slice());
  const { specs, weights } = options.precision === 'float16' ? halveWeights(saved.weightSpecs, float32) : { specs: saved.weightSpecs, weights: float32 };
  const modelJson: tfjs.io.ModelJSON = {
    format: saved.format,
    generatedBy: saved.generatedBy,
    convertedBy: 'hourglass export --format tfjs',
    modelTopology: saved.modelTopology as object,
    weightsManifest: [{ paths: [TFJS_FILES.weights], weights: specs }],
    ...(saved.userDefinedMetadata ? { userDefinedMetadata: saved.userDefinedMetadata } : {}),
  };
  const files: [string, Uint8Array | string][] = [
    [TFJS_FILES.weights, weights],
    [TFJS_FILES.info, `${JSON.stringify(info, null, 2)}\n`],
    [TFJS_FILES.model, JSON.stringify(modelJson)],
  ];
  let bytes = 0;
  for (const [name, content] of files) {
    writeFileAtomic(join(out, name), content);
    bytes += typeof content === 'string' ? Buffer.byteLength(content, 'utf8') : content.byteLength;
  }
  return { dir: out, files: files.map(([name]) => join(out, name)), bytes };
}

/** Re-encodes the float32 weights that `storesAsHalf` picks (the kernels) as float16 entries of the manifest. */
function halveWeights(specs: tfjs.io.WeightsManifestEntry[], data: Uint8Array): { specs: tfjs.io.WeightsManifestEntry[]; weights: Uint8Array } {
  const parts: Uint8Array[] = [];
  const out: tfjs.io.WeightsManifestEntry[] = [];
  let offset = 0;
  for (const spec of specs) {
    if (spec.dtype !== 'float32' || spec.quantization) throw new Error(`tfjs export: unexpected weight ${spec.name} (${spec.dtype})`);
    const length = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(data.slice(offset, offset + 4 * length).buffer);
    offset += 4 * length;
    if (storesAsHalf(spec.shape, values)) {
      const half = toHalf(values);
      parts.push(new Uint8Array(half.buffer));
      out.push({ ...spec, quantization: { dtype: 'float16' } });
    } else {
      parts.push(new Uint8Array(values.buffer));
      out.push(spec);
    }
  }
  if (offset !== data.byteLength) throw new Error(`tfjs export: weight specs cover ${offset} of ${data.byteLength} bytes`);
  return { specs: out, weights: Buffer.concat(parts) };
}

/**
 * Loads an exported folder in Node without tfjs-node (which alone has a file:// loader): reads model.json and
 * its weight files and hands them to tf.loadLayersModel. In a browser use tf.loadLayersModel(url) directly.
 */
export async function loadTfjsExport(dir: string): Promise<tfjs.LayersModel> {
  const path = join(dir, TFJS_FILES.model);
  if (!existsSync(path)) throw new FileFormatError(path, 'model.json not found');
  let json: tfjs.io.ModelJSON;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as tfjs.io.ModelJSON;
  } catch (err) {
    throw new FileFormatError(path, `not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(json.weightsManifest)) throw new FileFormatError(path, 'no weightsManifest');
  const artifacts = await tfjs.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs = manifest.flatMap((group) => group.weights);
    const buffers = manifest.flatMap((group) => group.paths).map((p) => {
      const file = join(dir, p);
      if (!existsSync(file)) throw new FileFormatError(file, 'weight file named in model.json not found');
      const buf = readFileSync(file);
      return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    });
    return [specs, tfjs.io.CompositeArrayBuffer.join(buffers)];
  });
  return tfjs.loadLayersModel(tfjs.io.fromMemory(artifacts));
}
