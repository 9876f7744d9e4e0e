// Training the person detector (scripts/train-detector.js): a small hourglass whose 3 output channels are the
// person-centre heatmap and box size of src/detect/codec.ts, trained on scenes of src/detect/train-scenes.ts made
// from the training split's people (LSPET 1-5500 and LSP 1-1000 by default; LSPET 5501-6000 is kept out to choose
// the detector's threshold, 6001-7000 for the benchmark). RMSprop, a fixed time budget, the rate dropped at 70%.
import sharp from 'sharp';
import { tf } from '../tf.js';
import type { Tensor, Tensor4D } from '../tf.js';
import type { Scalar } from '@tensorflow/tfjs-core';
import { HourglassModel } from '../model/model.js';
import { assignWeights, readCheckpoint, saveModel } from '../model/checkpoint.js';
import type { HourglassConfig } from '../model/config.js';
import { firstStacks, initialiseFrom } from '../model/init.js';
import { Rmsprop } from '../train/rmsprop.js';
import { readDataset } from '../data/readers/index.js';
import type { Sample } from '../data/sample.js';
import { Rng } from '../util/rng.js';
import { yieldToEventLoop } from '../util/event-loop.js';
import type { RasterImage } from '../geometry/affine.js';
import { CHANNELS, encodeTargets } from './codec.js';
import type { Rect } from './raster.js';
import { heatmapSize } from '../model/config.js';
import { sampleScene, type BackgroundRegion, type PersonImage, type Pyramid } from './train-scenes.js';

/**
 * The detector network: one hourglass, 128 features (the lsp14 pose model's width, whose first stack it starts from),
 * 128 px input, 3 output channels.
 */
export const DETECTOR_CONFIG = { stacks: 1, features: 128, modules: 1, joints: CHANNELS, inputSize: 128, depth: 4 } as const;

/**
 * Starts a detector from a checkpoint: another detector's weights (to continue training it), or a pose model's
 * (scripts/train-detector.js resolves a bundled name such as lsp14 to its path), whose first stack carries over
 * (firstStacks: the stem and stack 0, all but the heatmap output, which starts fresh as the detector's 3 channels). A
 * pose model's first stack already knows what people look like. Returns a line saying what was copied.
 */
export function initDetector(model: HourglassModel, path: string): string {
  const source = readCheckpoint(path);
  if (source.config.joints === CHANNELS) {
    assignWeights(model.params, source.weights, path);
    return `--init ${path}: a detector's weights, all copied`;
  }
  const report = initialiseFrom(model.params, model.config, firstStacks(source, model.config.stacks, path), path, { freshHeads: true });
  return `--init ${path}: the first ${model.config.stacks} stack(s) of a pose model (${source.config.stacks} stacks, ${source.config.joints} joints): ${report.summary}`;
}

/** Pyramid level sizes (longer side) of loaded training images. */
const LEVELS = [192, 80, 32];

/** The labelled joints' box of a sample (edge units), or null with fewer than 2 labelled joints. */
export function jointsBox(sample: Pick<Sample, 'joints' | 'visible'>): Rect | null {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  let n = 0;
  for (let k = 0; k < sample.visible.length; k++) {
    if (sample.visible[k] !== 1) continue;
    x0 = Math.min(x0, sample.joints[2 * k]);
    x1 = Math.max(x1, sample.joints[2 * k]);
    y0 = Math.min(y0, sample.joints[2 * k + 1]);
    y1 = Math.max(y1, sample.joints[2 * k + 1]);
    n++;
  }
  if (n < 2 || Math.max(x1 - x0, y1 - y0) < 4) return null;
  return { x: x0, y: y0, width: Math.max(1, x1 - x0 + 1), height: Math.max(1, y1 - y0 + 1) };
}

async function loadPyramid(path: string): Promise<{ pyramid: Pyramid; factor: number }> {
  const meta = await sharp(path).metadata();
  const levels: RasterImage[] = [];
  for (const side of LEVELS) {
    const { data, info } = await sharp(path).removeAlpha().toColourspace('srgb')
      .resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true }).raw().toBuffer({ resolveWithObject: true });
    levels.push({ data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels });
  }
  return { pyramid: { levels }, factor: levels[0].width / (meta.width ?? levels[0].width) };
}

/** Person-free strips of an image around its person's box (grown by a quarter), in level-0 pixels. */
function freeStrips(width: number, height: number, box: Rect): Rect[] {
  const gx = box.width * 0.25;
  const gy = box.height * 0.25;
  const left = box.x - gx;
  const right = box.x + box.width + gx;
  const top = box.y - gy;
  const bottom = box.y + box.height + gy;
  const strips: Rect[] = [
    { x: 0, y: 0, width: left, height },
    { x: right, y: 0, width: width - right, height },
    { x: 0, y: 0, width, height: top },
    { x: 0, y: bottom, width, height: height - bottom },
  ];
  return strips.filter((s) => Math.min(s.width, s.height) >= 24 && s.width * s.height >= 0.12 * width * height);
}

/** People and person-free regions of the samples' images (loaded at the pyramid's sizes). */
export async function loadTrainingImages(samples: readonly Sample[]): Promise<{ people: PersonImage[]; regions: BackgroundRegion[] }> {
  const people: PersonImage[] = [];
  const regions: BackgroundRegion[] = [];
  for (let i = 0; i < samples.length; i += 32) {
    const chunk = samples.slice(i, i + 32);
    const loaded = await Promise.all(chunk.map((s) => loadPyramid(s.imagePath)));
    chunk.forEach((sample, n) => {
      const box = jointsBox(sample);
      if (!box) return;
      const { pyramid, factor } = loaded[n];
      const scaled = { x: box.x * factor, y: box.y * factor, width: box.width * factor, height: box.height * factor };
      people.push({ image: pyramid, box: scaled });
      const base = pyramid.levels[0];
      for (const rect of freeStrips(base.width, base.height, scaled)) regions.push({ image: pyramid, rect });
    });
  }
  return { people, regions };
}

export interface TrainDetectorOptions {
  readonly lspet: string;
  readonly lsp: string | null;
  readonly lspetImages: string;
  readonly lspImages: string;
  readonly minutes: number;
  readonly out: string;
  readonly batch: number;
  readonly lr: number;
  readonly seed: number;
  /** A detector checkpoint to continue from, or a pose model to start from (initDetector); the optimiser starts afresh. */
  readonly init: string | null;
  /** Features of the detector's hourglass (DETECTOR_CONFIG's when not given; must match init's). */
  readonly features?: number;
  readonly log: (line: string) => void;
}

export async function trainDetector(o: TrainDetectorOptions): Promise<void> {
  const samples: Sample[] = [...(await readDataset({ format: 'lspet', root: o.lspet, images: o.lspetImages })).samples];
  if (o.lsp) samples.push(...(await readDataset({ format: 'lsp', root: o.lsp, images: o.lspImages })).samples);
  const loadStart = performance.now();
  const { people, regions } = await loadTrainingImages(samples);
  o.log(`${people.length} people, ${regions.length} person-free regions loaded in ${((performance.now() - loadStart) / 1000).toFixed(0)} s`);
  const config: HourglassConfig = { ...DETECTOR_CONFIG, features: o.features ?? DETECTOR_CONFIG.features };
  const model = HourglassModel.create(config, o.seed);
  if (o.init) o.log(initDetector(model, o.init));
  const trainable = model.params.trainable();
  const varList = [...trainable.values()];
  const paramOf = new Map([...trainable].map(([name, v]) => [v.name, name]));
  const optimizer = new Rmsprop(trainable);
  const rng = new Rng(o.seed);
  const s = config.inputSize;
  const g = heatmapSize(config);
  const started = Date.now();
  const deadline = started + o.minutes * 60_000;
  let lastSave = Date.now();
  let step = 0;
  let sum = 0;
  const save = async (): Promise<void> => {
    await saveModel(o.out, model, { meta: { kind: 'person-detector', init: o.init, steps: step, images: step * o.batch, minutes: (Date.now() - started) / 60_000 } });
  };
  while (Date.now() < deadline) {
    await yieldToEventLoop();
    const inputs = new Float32Array(o.batch * s * s * 3);
    const targets = new Float32Array(o.batch * g * g * CHANNELS);
    const masks = new Float32Array(o.batch * g * g);
    for (let b = 0; b < o.batch; b++) {
      const scene = sampleScene(rng, s, people, regions);
      inputs.set(scene.canvas.data, b * s * s * 3);
      const t = encodeTargets(scene.boxes, g);
      targets.set(t.targets, b * g * g * CHANNELS);
      masks.set(t.sizeMask, b * g * g);
    }
    const lr = Date.now() < started + 0.7 * o.minutes * 60_000 ? o.lr : o.lr / 4;
    const loss = tf.tidy(() => {
      const x = tf.tensor4d(inputs, [o.batch, s, s, 3]) as Tensor4D;
      const y = tf.tensor4d(targets, [o.batch, g, g, CHANNELS]) as Tensor4D;
      const m = tf.tensor4d(masks, [o.batch, g, g, 1]) as Tensor4D;
      const { value, grads } = tf.variableGrads(() => detectionLoss(model.forward(x, { training: true }), y, m), varList);
      const byName = new Map<string, Tensor>(Object.entries(grads).map(([name, grad]) => [paramOf.get(name) as string, grad]));
      optimizer.apply(byName, lr);
      return value.dataSync()[0];
    });
    if (!Number.isFinite(loss)) throw new Error(`detector training diverged at step ${step}`);
    step++;
    sum += loss;
    if (step % 25 === 0) {
      const minutes = (Date.now() - started) / 60_000;
      o.log(`step ${step}, ${step * o.batch} scenes, loss ${(sum / 25).toFixed(4)}, lr ${lr}, ${minutes.toFixed(1)} min, ${((step * o.batch) / (minutes * 60)).toFixed(1)} scenes/s`);
      sum = 0;
    }
    if (Date.now() - lastSave > 5 * 60_000) {
      await save();
      lastSave = Date.now();
    }
  }
  await save();
  o.log(`done: ${step} steps, ${step * o.batch} scenes -> ${o.out}`);
  optimizer.dispose();
  model.dispose();
}

/**
 * Sum over stacks of: the centre heatmap's squared error, weighted 1 + 4 x target (people are few cells of the
 * grid), and the size channels' squared error where the mask is 1; per scene (summed over the grid).
 */
export function detectionLoss(outputs: readonly Tensor4D[], targets: Tensor4D, mask: Tensor4D): Scalar {
  const n = targets.shape[0];
  const heatT = tf.slice(targets, [0, 0, 0, 0], [-1, -1, -1, 1]);
  const sizeT = tf.slice(targets, [0, 0, 0, 1], [-1, -1, -1, 2]);
  const weight = tf.add(1, tf.mul(4, heatT));
  let total = tf.scalar(0);
  for (const out of outputs) {
    const heat = tf.slice(out, [0, 0, 0, 0], [-1, -1, -1, 1]);
    const size = tf.slice(out, [0, 0, 0, 1], [-1, -1, -1, 2]);
    const heatLoss = tf.sum(tf.mul(weight, tf.square(tf.sub(heat, heatT))));
    const sizeLoss = tf.sum(tf.mul(mask, tf.square(tf.sub(size, sizeT))));
    total = tf.add(total, tf.div(tf.add(heatLoss, sizeLoss), n));
  }
  return total;
}
