// `hourglass export`: writes a checkpoint as a model other runtimes load; `--format tfjs` gives a TF.js
// LayersModel folder (model.json + weights.bin + hourglass.json) for tf.loadLayersModel in the browser or Node,
// `--format checkpoint` a weights-only checkpoint (no optimiser state) for predict/eval/createEstimator.
// `--precision float16` halves either: the kernels are stored as float16 (how the bundled models are shipped);
// `--precision int8` quarters a checkpoint's kernels (8-bit, a scale per output channel; checkpoints only).
// `--average A.ckpt B.ckpt ...` exports the mean of several checkpoints' weights instead (src/model/average.ts).
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { parseArgs } from '../args.js';
import type { Command } from '../command.js';
import { InvalidArgumentError } from '../../errors.js';
import { loadModel, modelFromCheckpoint, saveModel, type Precision } from '../../model/checkpoint.js';
import { averageCheckpoints } from '../../model/average.js';
import type { HourglassModel } from '../../model/model.js';
import { bundledNames, existingModelPath } from '../../api/models.js';
import { useBackend } from '../../backend/select.js';
import { exportTfjs } from '../../export/tfjs.js';
import { heatmapSize } from '../../model/config.js';

export const EXPORT_FORMATS = ['tfjs', 'checkpoint'] as const;
const PRECISIONS: readonly Precision[] = ['float32', 'float16', 'int8'];

const FLAGS = {
  model: { type: 'string', help: `checkpoint to export (e.g. runs/x/best.ckpt) or a bundled network (${bundledNames(true)})` },
  average: { type: 'boolean', help: "instead of --model: export the mean of the weights of the checkpoints given as arguments (2 or more of one network, e.g. a run's epochs/*.ckpt kept by train --keep-epochs)" },
  format: { type: 'string', help: `output format: ${EXPORT_FORMATS.join(', ')} (TF.js LayersModel: model.json + weights.bin; or a weights-only checkpoint)` },
  precision: { type: 'string', help: 'float32 (default); float16: kernels stored as float16, half the size; int8 (checkpoint only): 8-bit kernels with a scale per output channel, a quarter' },
  out: { type: 'string', help: 'output folder for tfjs (default <checkpoint name>-tfjs), file for checkpoint (default <checkpoint name>-<precision>.ckpt)' },
  json: { type: 'boolean', help: 'print one JSON object { files, bytes, dir }' },
} as const;

function size(bytes: number): string {
  return bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} KB`;
}

function openCheckpoint(model: string): { model: HourglassModel; meta: Record<string, unknown> } {
  const { model: network, checkpoint } = loadModel(existingModelPath(model));
  return { model: network, meta: checkpoint.meta };
}

function openAverage(paths: readonly string[], label: string): { model: HourglassModel; meta: Record<string, unknown> } {
  const averaged = averageCheckpoints(paths.map((p) => existingModelPath(p)));
  return { model: modelFromCheckpoint(averaged, label), meta: averaged.meta };
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'write a checkpoint as a TF.js LayersModel for the browser and Node, or as a smaller weights-only checkpoint',
  usage: 'export --model CKPT | --average CKPT CKPT... --format tfjs|checkpoint [--precision float32|float16|int8] [--out PATH] [--json]',
  flags: FLAGS,
  async run(argv, io) {
    const { flags, positionals } = parseArgs(argv, FLAGS);
    if (flags.average) {
      if (flags.model !== undefined) throw new InvalidArgumentError('give either --model CKPT or --average CKPT CKPT..., not both');
      if (positionals.length < 2) throw new InvalidArgumentError(`--average needs two or more checkpoints as arguments, got ${positionals.length}`);
    } else {
      if (positionals.length) throw new InvalidArgumentError(`export takes no arguments without --average, got '${positionals.join(' ')}'`);
      if (!flags.model) throw new InvalidArgumentError('export needs --model CKPT (a checkpoint written by hourglass train)');
    }
    if (flags.format === undefined) throw new InvalidArgumentError(`export needs --format (one of: ${EXPORT_FORMATS.join(', ')})`);
    if (!(EXPORT_FORMATS as readonly string[]).includes(flags.format)) {
      throw new InvalidArgumentError(`unknown export format '${flags.format}' (formats: ${EXPORT_FORMATS.join(', ')})`);
    }
    const precision = (flags.precision ?? 'float32') as Precision;
    if (!PRECISIONS.includes(precision)) throw new InvalidArgumentError(`unknown precision '${flags.precision}' (one of: ${PRECISIONS.join(', ')})`);
    if (precision === 'int8' && flags.format === 'tfjs') {
      throw new InvalidArgumentError('--precision int8 is for --format checkpoint; a TF.js export stores float32 or float16 kernels');
    }
    const label = flags.model ?? `the average of ${positionals.length} checkpoints`;
    const name = flags.model !== undefined ? basename(flags.model, extname(flags.model)) : 'average';
    const target = resolve(flags.out ?? (flags.format === 'tfjs' ? `${name}-tfjs` : `${name}-${precision}.ckpt`));
    // Folding and serialising are a few passes over the weights: the reference backend is exact and always there.
    await useBackend('cpu');
    // A missing, corrupt or mismatched checkpoint fails here, before anything is written.
    const { model, meta } = flags.model !== undefined ? openCheckpoint(flags.model) : openAverage(positionals, label);
    try {
      const c = model.config;
      if (!flags.json) {
        io.out(`exporting ${label}: ${c.stacks} stack(s), ${c.features} features, ${c.joints} joints, input ${c.inputSize}x${c.inputSize}`);
      }
      if (flags.format === 'checkpoint') {
        if (existsSync(target) && statSync(target).isDirectory()) throw new InvalidArgumentError(`export file ${target} is a folder`);
        await saveModel(target, model, { meta, precision });
        const bytes = statSync(target).size;
        if (flags.json) {
          io.out(JSON.stringify({ files: [target], bytes, dir: dirname(target) }));
          return 0;
        }
        io.out(`  wrote ${target} (${size(bytes)}, ${precision}): use it with --model ${target} or createEstimator({ model: '${target}' })`);
        return 0;
      }
      const result = await exportTfjs(model, target, { meta, precision: precision as Exclude<Precision, 'int8'> }); // int8 refused above
      if (flags.json) {
        io.out(JSON.stringify({ files: result.files, bytes: result.bytes, dir: result.dir }));
        return 0;
      }
      for (const file of result.files) io.out(`  wrote ${file}`);
      io.out(`TF.js LayersModel in ${result.dir} (${size(result.bytes)}): tf.loadLayersModel('<url of>/model.json');`
        + ` input [N, ${c.inputSize}, ${c.inputSize}, 3] RGB in [0, 1], output the last stack's heatmaps [N, ${heatmapSize(c)}, ${heatmapSize(c)}, ${c.joints}]`);
      return 0;
    } finally {
      model.dispose();
    }
  },
};
