// FLIC-11 (Frames Labeled In Cinema, upper body): joint order of the original code's flic .h5 files. Do not reorder.
// Order from pose-hg-train's FLIC drawing code (partNames LSho LElb LWri RSho RElb RWri LHip RHip LEye REye Nose).
import type { Skeleton } from './types.js';

export const FLIC11: Skeleton = {
  id: 'flic11',
  joints: [
    'left_shoulder', 'left_elbow', 'left_wrist', 'right_shoulder', 'right_elbow', 'right_wrist',
    'left_hip', 'right_hip', 'left_eye', 'right_eye', 'nose',
  ],
  flipPairs: [[0, 3], [1, 4], [2, 5], [6, 7], [8, 9]],
  // The paper's FLIC table reports elbow and wrist; the other groups follow for the per-joint report.
  groups: [
    { name: 'elbow', joints: [1, 4] },
    { name: 'wrist', joints: [2, 5] },
    { name: 'shoulder', joints: [0, 3] },
    { name: 'hip', joints: [6, 7] },
    { name: 'head', joints: [8, 9, 10] },
  ],
  edges: [
    [0, 1], [1, 2], [3, 4], [4, 5], [0, 3], [0, 6], [3, 7], [6, 7], [8, 9], [8, 10], [9, 10],
  ],
};

/** FLIC torso size for PCK@0.2: right shoulder to left hip (equals the .h5 files' `normalize`). */
export const FLIC_TORSO: readonly [number, number] = [3, 6];
