// `hourglass eval`: scores a model (or a file of given predictions) on a dataset with its standard protocol:
// PCK@0.2 for LSP and FLIC, PCKh@0.5 for MPII (the standard evaluation inputs when the folder has them).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from '../args.js';
import type { Command } from '../command.js';
import { InvalidArgumentError } from '../../errors.js';
import { readDataset, readPredictionsH5 } from '../../data/readers/index.js';
import type { Dataset } from '../../data/sample.js';
import { bundledNames, bundledModelFor, bundledModelPaths, loadPoseNetwork, modelSpecPaths } from '../../api/models.js';
import { parseSkeleton } from '../../data/skeletons/index.js';
import { useBackend, parseBackendName } from '../../backend/select.js';
import { predictDataset } from '../../eval/evaluate.js';
import { parseScales } from '../../inference/multi-scale.js';
import { SUBPIXEL_MODES, type Subpixel } from '../../codec/heatmap.js';
import { scoreDataset } from '../../eval/protocol.js';
import { pckh, summarize } from '../../eval/pck.js';
import { readMpiiStandard } from '../../eval/mpii-standard.js';
import { formatReport, reportJson, type EvalReport, type PredictionSource } from '../../eval/report.js';
import { CLI_DATASETS, datasetOptions } from '../datasets.js';
import { Progress } from '../progress.js';

const FLAGS = {
  dataset: { type: 'string', choices: CLI_DATASETS, help: 'dataset format' },
  root: { type: 'string', help: 'dataset folder (lsp, lspet, flic, mpii) or annotation file (coco, custom)' },
  images: { type: 'string', help: 'records to score, 1-based ranges (default all)' },
  split: { type: 'string', help: 'flic/mpii: .h5 split (default valid)' },
  model: { type: 'string', help: `checkpoint to run, or a bundled model (${bundledNames()}), or several joined by commas, an ensemble whose heatmaps are averaged (default: the bundled model of the dataset's joints)` },
  predictions: { type: 'string', help: 'score these predictions instead (.h5 with preds N x K x 2, as valid-ours.h5)' },
  'no-flip-test': { type: 'boolean', help: 'with --model: no flip test' },
  scales: { type: 'string', help: 'with --model: multi-scale test, crop sizes whose heatmaps are averaged, including 1 (e.g. 0.8,0.9,1,1.1,1.2; default 1)' },
  subpixel: { type: 'string', choices: SUBPIXEL_MODES, help: "with --model: how each heatmap's peak is refined: taylor (default: a second-order fit of the smoothed log-heatmap) or quarter (the paper's quarter-pixel step)" },
  batch: { type: 'int', min: 1, help: 'with --model: batch size (default 16)' },
  backend: { type: 'string', help: 'auto (default), native, wasm, cpu, tensorflow, webgpu (a GPU through Dawn: npm install webgpu)' },
  json: { type: 'boolean', help: 'print one JSON object' },
} as const;

export const evalCommand: Command = {
  name: 'eval',
  summary: 'PCK / PCKh of a model or of given predictions on a dataset, per joint and group',
  usage: 'eval --dataset lsp|lspet|flic|mpii|coco|custom --root PATH [--images A-B] [--model PATH | --predictions FILE] [--json]',
  flags: FLAGS,
  async run(argv, io) {
    const { flags, positionals } = parseArgs(argv, FLAGS);
    if (positionals.length) throw new InvalidArgumentError(`eval takes no arguments, got '${positionals.join(' ')}'`);
    if (!flags.dataset || !flags.root) throw new InvalidArgumentError('eval needs --dataset and --root');
    if (flags.model && flags.predictions) throw new InvalidArgumentError('give either --model or --predictions, not both');
    if (flags.predictions && (flags.scales !== undefined || flags['no-flip-test'] || flags.subpixel !== undefined)) {
      throw new InvalidArgumentError('--scales, --no-flip-test and --subpixel apply when a model runs, not to --predictions');
    }
    const scales = flags.scales === undefined ? undefined : parseScales(flags.scales);
    const split = flags.split ?? (flags.dataset === 'flic' || flags.dataset === 'mpii' ? 'valid' : undefined);
    const dataset = await readDataset(datasetOptions(flags.dataset, flags.root, flags.images, split));
    let predictions: Float32Array;
    let source: PredictionSource;
    if (flags.predictions !== undefined) {
      predictions = await givenPredictions(flags.predictions, dataset);
      source = { file: resolve(flags.predictions) };
    } else {
      ({ points: predictions, source } = await modelPredictions(flags, scales, dataset, io.isTty));
    }
    const report = { ...score(dataset, predictions, flags.root, split, flags.images), predictions: source };
    io.out(flags.json ? JSON.stringify(reportJson(report)) : formatReport(report));
    return 0;
  },
};

async function givenPredictions(file: string, dataset: Dataset): Promise<Float32Array> {
  const preds = await readPredictionsH5(file);
  const k = dataset.skeleton.joints.length;
  const all = dataset.samples.length;
  if (preds.numJoints !== k) throw new InvalidArgumentError(`${file}: ${preds.numJoints} joints per record, ${dataset.name} has ${k}`);
  // Predictions cover the whole file; keep the selected records (sample.index is 1-based).
  const out = new Float32Array(all * k * 2);
  dataset.samples.forEach((s, i) => {
    if (s.index > preds.count) throw new InvalidArgumentError(`${file}: has ${preds.count} records, record ${s.index} was asked for`);
    out.set(preds.points.subarray((s.index - 1) * k * 2, s.index * k * 2), i * k * 2);
  });
  return out;
}

async function modelPredictions(
  flags: { model?: string; backend?: string; batch?: number; 'no-flip-test'?: boolean; subpixel?: string }, scales: number[] | undefined, dataset: Dataset, tty: boolean,
): Promise<{ points: Float32Array; source: PredictionSource }> {
  const backend = parseBackendName(flags.backend ?? 'auto');
  let spec: string;
  if (flags.model) {
    spec = modelSpecPaths(flags.model).join(',');
  } else {
    const bundled = bundledModelFor(dataset.skeleton.id);
    if (!bundled) {
      throw new InvalidArgumentError(`no bundled model predicts the ${dataset.skeleton.joints.length} joints of ${dataset.name} (${dataset.skeleton.id}): ` +
        'give --model CKPT or --predictions FILE');
    }
    spec = bundledModelPaths(bundled).join(',');
    process.stderr.write(`model: the bundled ${bundled.name} model (${spec})\n`);
  }
  // The model is found (or refused) before the backend starts; the file is read once the backend is up.
  const choice = await useBackend(backend);
  process.stderr.write(`${choice.message}\n`);
  const { model, meta, paths } = loadPoseNetwork(spec);
  const k = dataset.skeleton.joints.length;
  const stored = parseSkeleton(meta.skeleton);
  if (model.config.joints !== k || (stored && stored.joints.join() !== dataset.skeleton.joints.join())) {
    model.dispose();
    throw new InvalidArgumentError(`${spec} predicts ${model.config.joints} joints${stored ? ` (${stored.id})` : ''}, ` +
      `${dataset.name} has ${k} (${dataset.skeleton.id}): evaluate a model trained on this skeleton`);
  }
  const progress = new Progress((t) => process.stderr.write(t), tty || Boolean(process.stderr.isTTY), 10);
  const started = performance.now();
  const flipTest = !flags['no-flip-test'];
  const subpixel = (flags.subpixel ?? 'taylor') as Subpixel; // parseArgs checked it against SUBPIXEL_MODES
  try {
    const points = await predictDataset(model, dataset, {
      flipTest, scales, subpixel, batchSize: flags.batch,
      onProgress: (done, total) => progress.update({
        label: 'eval', done, total, rate: (done * 1000) / (performance.now() - started), itemsPerUnit: 1,
        detail: `${((done * 1000) / (performance.now() - started)).toFixed(1)} img/s`,
      }),
    });
    return { points, source: { model: paths.map((p) => resolve(p)).join(','), flipTest, scales: scales ?? [1], subpixel } };
  } finally {
    progress.end();
    model.dispose();
  }
}

/** MPII valid with its standard evaluation file beside it: the standard mask and head sizes; otherwise the dataset's protocol. */
function score(dataset: Dataset, predictions: Float32Array, root: string, split: string | undefined, images: string | undefined): EvalReport {
  const standard = join(root, 'detections_our_format.mat');
  if (dataset.skeleton.id === 'mpii16' && split === 'valid' && !images && existsSync(standard)) {
    const mpii = readMpiiStandard(standard);
    if (mpii.count === dataset.samples.length) {
      const result = pckh({ predictions, truth: mpii.truth, labelled: mpii.labelled, normalizers: mpii.headSizes, joints: 16 });
      return { dataset: `${dataset.name} (standard evaluation: ${standard})`, protocol: 'PCKh@0.5', samples: mpii.count, summary: summarize(result, dataset.skeleton) };
    }
  }
  const s = scoreDataset(dataset, predictions);
  return { dataset: dataset.name, protocol: s.protocol, samples: dataset.samples.length, summary: s };
}
