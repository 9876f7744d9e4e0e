// Turning command-line dataset flags into reader options: `--dataset F --root DIR` (lsp, lspet, flic, mpii) or
// `--dataset F --root FILE` (coco, custom: the annotation file), plus `--extra F:PATH[:RANGE]` for more sources.
import { InvalidArgumentError } from '../errors.js';
import { DATASET_FORMATS, type ReadDatasetOptions } from '../data/readers/index.js';

export const CLI_DATASETS = ['lsp', 'lspet', 'flic', 'mpii', 'coco', 'custom'] as const;
export type CliDataset = (typeof CLI_DATASETS)[number];

export function datasetOptions(format: string, path: string, images?: string, split?: string): ReadDatasetOptions {
  const common = images && images !== 'all' ? { images } : {};
  switch (format) {
    case 'lsp':
    case 'lspet':
      if (split) throw new InvalidArgumentError(`--split does not apply to ${format} (select records with --images)`);
      return { format, root: path, ...common };
    case 'flic':
    case 'mpii':
      return { format, root: path, ...(split ? { split } : {}), ...common };
    case 'coco':
    case 'custom':
      if (split) throw new InvalidArgumentError(`--split does not apply to ${format} (give the annotation file as --root)`);
      return { format, file: path, ...common };
    default:
      throw new InvalidArgumentError(`unknown dataset '${format}' (datasets: ${CLI_DATASETS.join(', ')}; library formats: ${DATASET_FORMATS.join(', ')})`);
  }
}

/** `FORMAT:PATH[:RANGE]`, e.g. `lsp:../shared/data/lsp:1-1000`. */
export function parseSourceSpec(spec: string): ReadDatasetOptions {
  const m = /^([a-z]+):(.+?)(?::(\d[\d,\s-]*|all))?$/.exec(spec);
  if (!m) throw new InvalidArgumentError(`--extra '${spec}' is not FORMAT:PATH[:RANGE] (e.g. lsp:../shared/data/lsp:1-1000)`);
  return datasetOptions(m[1], m[2], m[3]);
}

/** The validation split of a dataset given for training: same source, other records or the 'valid' split. */
export function validationOptions(train: ReadDatasetOptions, valImages?: string, valSplit?: string): ReadDatasetOptions | null {
  if (train.format === 'flic' || train.format === 'mpii') {
    return { ...train, split: valSplit ?? 'valid', ...(valImages ? { images: valImages } : { images: undefined }) };
  }
  if (!valImages) return null;
  return { ...train, images: valImages };
}
