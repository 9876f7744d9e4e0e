// LSP-14 (Leeds Sports Pose, also LSPET): joint order of joints.mat. Do not reorder. Left/right are person-centric.
import type { Skeleton } from './types.js';

export const LSP14: Skeleton = {
  id: 'lsp14',
  joints: [
    'right_ankle', 'right_knee', 'right_hip', 'left_hip', 'left_knee', 'left_ankle',
    'right_wrist', 'right_elbow', 'right_shoulder', 'left_shoulder', 'left_elbow', 'left_wrist',
    'neck', 'head_top',
  ],
  flipPairs: [[0, 5], [1, 4], [2, 3], [6, 11], [7, 10], [8, 9]],
  groups: [
    { name: 'head', joints: [12, 13] },
    { name: 'shoulder', joints: [8, 9] },
    { name: 'elbow', joints: [7, 10] },
    { name: 'wrist', joints: [6, 11] },
    { name: 'hip', joints: [2, 3] },
    { name: 'knee', joints: [1, 4] },
    { name: 'ankle', joints: [0, 5] },
  ],
  edges: [
    [0, 1], [1, 2], [5, 4], [4, 3], [2, 3], [2, 8], [3, 9],
    [6, 7], [7, 8], [11, 10], [10, 9], [8, 12], [9, 12], [12, 13],
  ],
};

/** LSP torso size for PCK@0.2: right shoulder to left hip. */
export const LSP_TORSO: readonly [number, number] = [8, 3];
