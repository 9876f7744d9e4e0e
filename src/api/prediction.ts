// One image's prediction as `hourglass predict` writes it: the pose, rounded into the result JSON, and the files
// (JSON and optional overlay PNG, both written atomically). Shared by `predict` and the queue worker (src/queue/).
import { resolve } from 'node:path';
import type { RasterImage } from '../geometry/affine.js';
import { writeFileAtomic } from '../util/atomic.js';
import { toRaster, type Box, type Estimator, type EstimateOptions, type Keypoint, type Pose } from './estimator.js';
import { renderOverlay } from './overlay.js';

/** The JSON written per image: the pose in image pixels and where its files are (null: not written). */
export interface PredictResult extends Pose {
  readonly image: string;
  readonly json: string | null;
  readonly overlay: string | null;
}

/** A decoded image and its pose, before anything is written. */
export interface Prediction {
  readonly image: string;
  readonly raster: RasterImage;
  readonly pose: Pose;
  /** Milliseconds spent decoding and estimating. */
  readonly ms: number;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/**
 * Decodes the image file and estimates its pose (throws HourglassError for unreadable or corrupt images). The options
 * may depend on the decoded image (its size, say: boxes read from a detections file are checked against it).
 */
export async function predictImage(
  estimator: Estimator, image: string, options: EstimateOptions | ((raster: RasterImage) => EstimateOptions),
): Promise<Prediction> {
  const started = performance.now();
  const raster = await toRaster(image);
  const pose = await estimator.estimatePose(raster, typeof options === 'function' ? options(raster) : options);
  return { image, raster, pose, ms: performance.now() - started };
}

function roundKeypoints(keypoints: readonly Keypoint[]): Keypoint[] {
  return keypoints.map((k) => ({ name: k.name, x: round(k.x, 2), y: round(k.y, 2), score: round(k.score, 4) }));
}

function roundBox(b: Box): Box {
  return { x: round(b.x, 2), y: round(b.y, 2), width: round(b.width, 2), height: round(b.height, 2) };
}

/** The result record of a prediction (coordinates to 0.01 px, scores to 1e-4), naming the files it goes to. */
export function predictionResult(p: Prediction, jsonPath: string | null, overlayPath: string | null): PredictResult {
  const { pose } = p;
  return {
    image: resolve(p.image),
    imageSize: pose.imageSize,
    box: roundBox(pose.box),
    keypoints: roundKeypoints(pose.keypoints),
    people: pose.people.map((q) => ({ box: roundBox(q.box), score: round(q.score, 4), keypoints: roundKeypoints(q.keypoints) })),
    json: jsonPath,
    overlay: overlayPath,
  };
}

/** The text of a result's JSON file. */
export function serializeResult(result: PredictResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}

/** Writes the overlay (when asked) and then the JSON file, each atomically; returns the result record. */
export async function writePrediction(estimator: Estimator, p: Prediction, jsonPath: string, overlayPath: string | null): Promise<PredictResult> {
  const result = predictionResult(p, jsonPath, overlayPath);
  if (overlayPath) writeFileAtomic(overlayPath, await renderOverlay(p.raster, p.pose, estimator.skeleton));
  writeFileAtomic(jsonPath, serializeResult(result));
  return result;
}
