// MPII-16: joint order of the MPII annotations and the original code's .h5 files. Do not reorder.
import type { Skeleton } from './types.js';

export const MPII16: Skeleton = {
  id: 'mpii16',
  joints: [
    'right_ankle', 'right_knee', 'right_hip', 'left_hip', 'left_knee', 'left_ankle',
    'pelvis', 'thorax', 'upper_neck', 'head_top',
    'right_wrist', 'right_elbow', 'right_shoulder', 'left_shoulder', 'left_elbow', 'left_wrist',
  ],
  flipPairs: [[0, 5], [1, 4], [2, 3], [10, 15], [11, 14], [12, 13]],
  // The standard PCKh table (the MPII evaluation script): 'Head' is the head top alone; the mean pools every joint
  // but pelvis and thorax (upper neck included).
  groups: [
    { name: 'head', joints: [9] },
    { name: 'shoulder', joints: [12, 13] },
    { name: 'elbow', joints: [11, 14] },
    { name: 'wrist', joints: [10, 15] },
    { name: 'hip', joints: [2, 3] },
    { name: 'knee', joints: [1, 4] },
    { name: 'ankle', joints: [0, 5] },
  ],
  meanJoints: [0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15],
  edges: [
    [0, 1], [1, 2], [2, 6], [5, 4], [4, 3], [3, 6], [6, 7], [7, 8], [8, 9],
    [10, 11], [11, 12], [12, 7], [15, 14], [14, 13], [13, 7],
  ],
};
