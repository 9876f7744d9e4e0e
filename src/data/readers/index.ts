// One entry point for every dataset format: readDataset({ format, ... }) -> Dataset.
// Each format's options are a member of one discriminated union; the readers themselves live next to this file.
import { dirname, join } from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import type { Dataset } from '../sample.js';
import { FLIC11 } from '../skeletons/flic.js';
import { MPII16 } from '../skeletons/mpii.js';
import type { Skeleton } from '../skeletons/types.js';
import { checkImages, requireDir, type ImageCheck } from './checks.js';
import { readCoco } from './coco.js';
import { readCustom } from './custom.js';
import { readH5Annotations } from './h5.js';
import { readLsp } from './lsp.js';

export type { ImageCheck } from './checks.js';
export { readPredictionsH5, type Predictions } from './h5.js';
export { readMat, readMatArray, matIndex, type MatArray } from './mat.js';

interface CommonOptions {
  /** Records to keep, 1-based: a range such as '1-6000' / '1-100,200-300', or a list of indices. Default all. */
  readonly images?: string | readonly number[];
  /** Absent images: ignore (default; images are only needed when loaded), fail, or drop those samples. */
  readonly checkImages?: ImageCheck;
}

export type ReadDatasetOptions = CommonOptions & (
  /** `<root>/joints.mat` + `<root>/images/`; 'lsp' tells LSP from LSPET by the array's shape, 'lspet' insists. */
  | { readonly format: 'lsp' | 'lspet'; readonly root: string; readonly imagesDir?: string; readonly origin?: 0 | 1 }
  /** `<root>/<split>.h5` (default split 'valid') + `<root>/images/`; MPII-16, MPII crop rule. */
  | { readonly format: 'mpii'; readonly root: string; readonly split?: string; readonly imagesDir?: string }
  /** `<root>/<split>.h5` (default split 'train') + `<root>/images/`; FLIC-11. */
  | { readonly format: 'flic'; readonly root: string; readonly split?: string; readonly imagesDir?: string }
  /** Any file in the original code's .h5 format, with its skeleton. */
  | {
    readonly format: 'h5'; readonly file: string; readonly imagesDir: string; readonly skeleton: Skeleton;
    readonly name?: string; readonly mpiiBox?: boolean; readonly origin?: 0 | 1;
  }
  /** COCO keypoints JSON + images folder (default `<folder of the file>/images`). */
  | {
    readonly format: 'coco'; readonly file: string; readonly imagesDir?: string;
    readonly includeCrowd?: boolean; readonly minKeypoints?: number; readonly margin?: number;
  }
  /** The project's JSON format (CUSTOM_FORMAT.md). */
  | { readonly format: 'custom'; readonly file: string; readonly imagesDir?: string }
);

export const DATASET_FORMATS = ['lsp', 'lspet', 'mpii', 'flic', 'h5', 'coco', 'custom'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** Reads a dataset. Throws FileFormatError for bad or missing files, InvalidArgumentError for bad options. */
export async function readDataset(options: ReadDatasetOptions): Promise<Dataset> {
  const dataset = await readAny(options);
  return checkImages(dataset, options.checkImages ?? 'none');
}

async function readAny(o: ReadDatasetOptions): Promise<Dataset> {
  switch (o.format) {
    case 'lsp':
    case 'lspet':
      return readLsp({
        root: o.root,
        kind: o.format === 'lspet' ? 'lspet' : 'auto',
        imagesDir: o.imagesDir,
        images: o.images,
        origin: o.origin,
      });
    case 'mpii':
    case 'flic': {
      requireDir(o.root, `${o.format.toUpperCase()} dataset root`);
      const split = o.split ?? (o.format === 'mpii' ? 'valid' : 'train');
      if (!/^[\w.-]+$/.test(split)) throw new InvalidArgumentError(`split must be a file name stem like 'train' or 'valid', got '${split}'`);
      return readH5Annotations({
        file: join(o.root, `${split}.h5`),
        imagesDir: o.imagesDir ?? join(o.root, 'images'),
        skeleton: o.format === 'mpii' ? MPII16 : FLIC11,
        name: o.format,
        boxRule: o.format === 'mpii' ? 'mpii' : 'as-is',
        images: o.images,
      });
    }
    case 'h5':
      return readH5Annotations({
        file: o.file,
        imagesDir: o.imagesDir,
        skeleton: o.skeleton,
        name: o.name ?? 'h5',
        boxRule: o.mpiiBox === true ? 'mpii' : 'as-is',
        origin: o.origin,
        images: o.images,
      });
    case 'coco':
      return readCoco({
        file: o.file,
        imagesDir: o.imagesDir ?? join(dirname(o.file), 'images'),
        includeCrowd: o.includeCrowd,
        minKeypoints: o.minKeypoints,
        margin: o.margin,
        images: o.images,
      });
    case 'custom':
      return readCustom({
        file: o.file,
        imagesDir: o.imagesDir,
        images: o.images,
      });
    default: {
      const format: unknown = (o as { format: unknown }).format;
      throw new InvalidArgumentError(`unknown dataset format '${String(format)}' (formats: ${DATASET_FORMATS.join(', ')})`);
    }
  }
}
