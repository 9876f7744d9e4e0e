// One image's path through the estimator, people included: a given box (one person), given boxes (several), or the
// person search (src/detect/detector.ts), then each person's crop through the pose network (src/api/pose.ts).
// Shared by the Node estimator and the browser entry; no Node module here.
import { InvalidArgumentError } from '../errors.js';
import type { RasterImage } from '../geometry/affine.js';
import type { Skeleton } from '../data/skeletons/types.js';
import type { HeatmapModel } from '../eval/infer.js';
import { checkDetectOptions, detectPeople } from '../detect/detector.js';
import { checkBox, keypointsInBox, type Box, type EstimateOptions, type Person, type Pose, type ScoredBoxInput } from './pose.js';

/** The networks one image goes through: the pose network and, when there is one, the person detector. */
export interface Networks {
  readonly model: HeatmapModel;
  readonly skeleton: Skeleton;
  readonly flipPerm: readonly number[];
  readonly detector: HeatmapModel | null;
}

/** Given boxes with their scores (1 when none), checked against the image; errors name the box by its position. */
export function checkBoxes(boxes: readonly ScoredBoxInput[], image: { width: number; height: number }): { box: Box; score: number }[] {
  if (!Array.isArray(boxes)) throw new InvalidArgumentError(`boxes must be an array of boxes, got ${JSON.stringify(boxes)}`);
  return boxes.map((value, i) => {
    const box = checkBox(value, image, `boxes[${i}]`);
    const score = Array.isArray(value) ? 1 : (value as { score?: unknown }).score ?? 1;
    if (typeof score !== 'number' || !Number.isFinite(score)) throw new InvalidArgumentError(`boxes[${i}].score must be a finite number, got ${JSON.stringify(score)}`);
    return { box, score };
  });
}

/** The Pose of an image: every person's keypoints, best score first; the top level is the first person's. */
export async function estimateInRaster(nets: Networks, raster: RasterImage, options: EstimateOptions = {}): Promise<Pose> {
  const imageSize = { width: raster.width, height: raster.height };
  const whole: Box = { x: 0, y: 0, ...imageSize };
  if (options.box !== undefined && options.boxes !== undefined) throw new InvalidArgumentError('give either box or boxes, not both');
  const limits = checkDetectOptions({ minScore: options.minPersonScore, maxPeople: options.maxPeople });
  const crop = { flipTest: options.flipTest, scales: options.scales };
  const run = (box: Box | null) => keypointsInBox(nets.model, nets.skeleton, nets.flipPerm, raster, box, crop);
  if (options.box !== undefined || (options.boxes === undefined && nets.detector === null)) {
    // One person: in the given box, or filling the image (no detector).
    const box = options.box !== undefined ? checkBox(options.box, imageSize) : null;
    const keypoints = await run(box);
    const b = box ?? whole;
    return { keypoints, box: b, imageSize, people: [{ box: b, score: 1, keypoints }] };
  }
  const found = options.boxes !== undefined
    ? checkBoxes(options.boxes, imageSize)
      .filter((p) => p.score >= (options.minPersonScore ?? 0))
      .sort((a, b) => b.score - a.score)
      .slice(0, limits.maxPeople)
    : await detectPeople(nets.detector as HeatmapModel, raster, { minScore: limits.minScore, maxPeople: limits.maxPeople });
  const people: Person[] = [];
  for (const { box, score } of found) people.push({ box, score, keypoints: await run(box) });
  const first = people[0];
  return { keypoints: first?.keypoints ?? [], box: first?.box ?? whole, imageSize, people };
}
