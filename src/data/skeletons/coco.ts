// COCO-17 (MS COCO person keypoints): joint order of the COCO annotation files. Do not reorder.
import type { Skeleton } from './types.js';

export const COCO17: Skeleton = {
  id: 'coco17',
  joints: [
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
    'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle',
  ],
  flipPairs: [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14], [15, 16]],
  groups: [
    { name: 'head', joints: [0, 1, 2, 3, 4] },
    { name: 'shoulder', joints: [5, 6] },
    { name: 'elbow', joints: [7, 8] },
    { name: 'wrist', joints: [9, 10] },
    { name: 'hip', joints: [11, 12] },
    { name: 'knee', joints: [13, 14] },
    { name: 'ankle', joints: [15, 16] },
  ],
  // The `skeleton` field of COCO's person category, made 0-based.
  edges: [
    [15, 13], [13, 11], [16, 14], [14, 12], [11, 12], [5, 11], [6, 12], [5, 6], [5, 7], [6, 8],
    [7, 9], [8, 10], [1, 2], [0, 1], [0, 2], [1, 3], [2, 4], [3, 5], [4, 6],
  ],
};
