// One image's path through the estimator, people included: a given box (one person), given boxes (several), or the
// person search (src/detect/detector.ts), then each person's crop through the pose network (src/inference/person.ts).
// Shared by the Node estimator and the browser entry; no Node module here.
import { InvalidArgumentError } from '../errors.js';
import type { RasterImage } from '../geometry/affine.js';
import type { Skeleton } from '../data/skeletons/types.js';
import type { HeatmapModel } from '../inference/heatmaps.js';
import { keypointsInBox } from '../inference/person.js';
import { checkDetectOptions, detectPeople } from '../detect/detector.js';
import { suppress } from '../detect/codec.js';
import { checkBox, type Box, type EstimateOptions, type Keypoint, type Person, type Pose, type ScoredBoxInput } from './pose.js';

/** Detections at least this sure are candidates, checked by the pose network. */
export const CANDIDATE_SCORE = 0.1;
/**
 * Candidates checked: the people asked for and 2 more, at most MAX_CANDIDATES (each is one run of the pose network;
 * the best-scoring by the detector first).
 */
const EXTRA_CANDIDATES = 2;
const MAX_CANDIDATES = 8;
/** Checked people whose boxes overlap more than this are one person. */
export const PEOPLE_IOU = 0.5;

/** The box of a person's keypoints (the joints' box the pose network's crops are made from). */
export function keypointsBox(keypoints: readonly Keypoint[]): Box {
  const xs = keypoints.map((k) => k.x);
  const ys = keypoints.map((k) => k.y);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x + 1, height: Math.max(...ys) - y + 1 };
}

/** The weight of the detector's peak in a person's score (the pose network's mean joint score has the rest). */
export const DETECTOR_WEIGHT = 0.5;

/**
 * A found person's score: a weighted geometric mean of the detector's peak and the pose network's mean joint score
 * on the candidate's crop (a crop of something that is not a person gets low joint scores).
 */
export function personScore(detectorScore: number, jointScore: number, detectorWeight = DETECTOR_WEIGHT): number {
  return Math.max(0, detectorScore) ** detectorWeight * Math.max(0, jointScore) ** (1 - detectorWeight);
}

export function meanJointScore(keypoints: readonly Keypoint[]): number {
  return keypoints.reduce((sum, k) => sum + k.score, 0) / keypoints.length;
}

export interface Candidate {
  /** The keypoints' box of the pose network's run on the detection's crop. */
  readonly box: Box;
  readonly detectorScore: number;
  readonly jointScore: number;
}

/**
 * The detector's candidates (at least CANDIDATE_SCORE, or minScore when lower), each checked by the pose network on
 * its crop (no flip test): the keypoints' box becomes the person's box (the detector's size is rough).
 */
export async function candidates(nets: Networks, raster: RasterImage, limits: { minScore: number; maxPeople: number }): Promise<Candidate[]> {
  const found = await detectPeople(nets.detector as HeatmapModel, raster, {
    minScore: Math.min(CANDIDATE_SCORE, limits.minScore), maxPeople: Math.min(MAX_CANDIDATES, limits.maxPeople + EXTRA_CANDIDATES),
  });
  const checked: Candidate[] = [];
  for (const c of found) checked.push({ ...(await poseCheck(nets, raster, c.box)), detectorScore: c.score });
  return checked;
}

/**
 * One run of the pose network (no flip test) on a box's crop: the box of the keypoints it finds and their mean joint
 * score. The search's check of a candidate and each re-crop (REFINE_PASSES).
 */
export async function poseCheck(nets: Networks, raster: RasterImage, box: Box): Promise<{ box: Box; jointScore: number }> {
  const keypoints = await keypointsInBox(nets.searchModel ?? nets.model, nets.skeleton, nets.flipPerm, raster, box, { flipTest: false });
  return { box: keypointsBox(keypoints), jointScore: meanJointScore(keypoints) };
}

/** The networks one image goes through: the pose network and, when there is one, the person detector. */
export interface Networks {
  readonly model: HeatmapModel;
  /**
   * The pose network of the search's checks and re-crops (poseCheck), when it is not `model`: the one the search's
   * thresholds were chosen with (PEOPLE_SEARCH_MODEL in the estimator), so that they mean the same whatever model gives
   * the final poses. Its mean joint scores are what personScore and minPersonScore weigh.
   */
  readonly searchModel?: HeatmapModel;
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
    : await findPeople(nets, raster, limits);
  const people: Person[] = [];
  for (const { box, score } of found) people.push({ box, score, keypoints: await run(box) });
  const first = people[0];
  return { keypoints: first?.keypoints ?? [], box: first?.box ?? whole, imageSize, people };
}

/**
 * Passes of the pose network (no flip test) that re-crop a kept person on the box of their own keypoints before the
 * final run. The detector's box size is rough (on held-out LSPET 5501-6000 scenes the true box is 0.67-1.56 times its
 * side, 10th to 90th percentile); each pass moves the crop towards the person's own box. Chosen on held-out scenes and
 * photos of LSPET 5501-6000 (80 of each, found people's PCK@0.2 with the final flip-test run on the box after 1, 2, 3
 * re-crops: scenes 60.6, 62.5, 62.5; photos 59.7, 63.4, 64.9; against 73.4 for the true box): the second costs one
 * run per person and gains 2-4 points; a third gains little more.
 */
export const REFINE_PASSES = 1;

/**
 * The person search: the candidates scored by personScore and duplicates (the same person twice) suppressed; each
 * person at least minScore is re-cropped (REFINE_PASSES) and must score at least minScore there too (their score is
 * the lower of the two). Checked on held-out scenes (`node dist/bench/people.js --choose-threshold`): at 0.2 this
 * keeps as many people (93.3% vs 92.3%) and reports a person in fewer person-free images (3.3% vs 6.0%) than the
 * check's score alone.
 */
async function findPeople(nets: Networks, raster: RasterImage, limits: { minScore: number; maxPeople: number }): Promise<{ box: Box; score: number }[]> {
  const checked = (await candidates(nets, raster, limits)).map((c) => ({ ...c, score: personScore(c.detectorScore, c.jointScore) }));
  const people: { box: Box; score: number }[] = [];
  for (const c of suppress(checked, PEOPLE_IOU)) {
    if (c.score < limits.minScore || people.length >= limits.maxPeople) break;
    let box = c.box;
    let score = c.score;
    for (let pass = 0; pass < REFINE_PASSES; pass++) {
      const recrop = await poseCheck(nets, raster, box);
      box = recrop.box;
      score = Math.min(score, personScore(c.detectorScore, recrop.jointScore));
    }
    if (score >= limits.minScore) people.push({ box, score });
  }
  return suppress(people, PEOPLE_IOU); // two candidates of one person may meet on the same box
}
