// The reader's output: one annotated person (Sample) and a named list of them with their skeleton (Dataset).
import type { Skeleton } from './skeletons/types.js';

/**
 * One annotated person in one image, in the image's own pixel coordinates ("imagePoints").
 *
 * Coordinate convention (all readers): 0-based, pixel centres at integers — the centre of the top-left pixel
 * is (0, 0), the image spans [-0.5, width - 0.5] x [-0.5, height - 0.5]. Readers of MATLAB-made annotations
 * convert from MATLAB's 1-based indices by subtracting 1 (see each reader for its rule).
 */
export interface Sample {
  /** Stable identifier, `<dataset name>:<index>` (e.g. 'lspet:42'); COCO adds the annotation id. */
  readonly id: string;
  /** 1-based position of the record in its annotation file: what index ranges ('1-6000') select. */
  readonly index: number;
  /** Absolute or root-relative path of the image; it need not exist when the dataset is read. */
  readonly imagePath: string;
  /** [K*2] x0, y0, x1, y1, ... in image pixels (convention above). 0 where the joint has no label. */
  readonly joints: Float32Array;
  /** [K] 1 = the joint has a usable position: it counts for the loss and the metrics; 0 = no label. */
  readonly visible: Uint8Array;
  /**
   * [K] 1 = labelled but marked occluded / not visible by the dataset (LSP occlusion flag, MPII `visible` = 0).
   * Informational only: occluded joints are still trained and scored. Absent when the dataset has no such flag.
   */
  readonly occluded?: Uint8Array;
  /** Person centre in image pixels. */
  readonly center: readonly [number, number];
  /** Person scale: the crop is a square of side 200 * scale px around `center` (after `cropBox`). */
  readonly scale: number;
  /** PCK normaliser when the dataset gives one (MPII head size, FLIC torso size), in image pixels. */
  readonly normalize?: number;
}

/**
 * How the crop step turns a sample's (center, scale) into the crop box:
 * 'as-is' uses them unchanged; 'mpii' applies the original code's MPII adjustment (see `cropBox`).
 */
export type BoxRule = 'as-is' | 'mpii';

export interface Dataset {
  /** Short name used in sample ids and logs: 'lsp', 'lspet', 'mpii', 'flic', 'coco', or the custom file's. */
  readonly name: string;
  readonly skeleton: Skeleton;
  readonly samples: Sample[];
  /** The crop rule the annotation's (center, scale) were made for. */
  readonly boxRule: BoxRule;
  /** The annotation file the samples came from. */
  readonly source: string;
}

/**
 * The crop box of a sample under its dataset's rule. For 'mpii' this is the original pose-hg-train adjustment
 * (src/util/dataset/mpii.lua: c.y += 15 * s; s *= 1.25), applied at crop time for training and testing alike,
 * because MPII's annotated centre sits at the torso and its scale is a tight person height.
 */
export function cropBox(sample: Pick<Sample, 'center' | 'scale'>, rule: BoxRule): { center: [number, number]; scale: number } {
  const [cx, cy] = sample.center;
  if (rule === 'mpii') return { center: [cx, cy + 15 * sample.scale], scale: sample.scale * 1.25 };
  return { center: [cx, cy], scale: sample.scale };
}
