// `hourglass export`: writes a checkpoint as a model other runtimes load; `--format tfjs` gives a TF.js
// LayersModel folder (model.json + weights.bin + hourglass.json) for tf.loadLayersModel in the browser or Node.
import { basename, extname, resolve } from 'node:path';
import { parseArgs } from '../args.js';
import type { Command } from '../command.js';
import { InvalidArgumentError } from '../../errors.js';
import { loadModel } from '../../model/checkpoint.js';
import { resolveModelPath } from '../../api/models.js';
import { useBackend } from '../../backend/select.js';
import { exportTfjs } from '../../export/tfjs.js';

export const EXPORT_FORMATS = ['tfjs'] as const;

const FLAGS = {
  model: { type: 'string', help: 'checkpoint to export (e.g. runs/x/best.ckpt) or a bundled model: lsp14, flic' },
  format: { type: 'string', help: `output format: ${EXPORT_FORMATS.join(', ')} (TF.js LayersModel: model.json + weights.bin)` },
  out: { type: 'string', help: 'output folder (default: <checkpoint name>-tfjs in the current folder)' },
  json: { type: 'boolean', help: 'print one JSON object { files, bytes, dir }' },
} as const;

function size(bytes: number): string {
  return bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} KB`;
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'write a checkpoint as a TF.js LayersModel (model.json + weights) for the browser and Node',
  usage: 'export --model CKPT --format tfjs [--out DIR] [--json]',
  flags: FLAGS,
  async run(argv, io) {
    const { flags, positionals } = parseArgs(argv, FLAGS);
    if (positionals.length) throw new InvalidArgumentError(`export takes no arguments, got '${positionals.join(' ')}'`);
    if (!flags.model) throw new InvalidArgumentError('export needs --model CKPT (a checkpoint written by hourglass train)');
    if (flags.format === undefined) throw new InvalidArgumentError(`export needs --format (one of: ${EXPORT_FORMATS.join(', ')})`);
    if (!(EXPORT_FORMATS as readonly string[]).includes(flags.format)) {
      throw new InvalidArgumentError(`unknown export format '${flags.format}' (formats: ${EXPORT_FORMATS.join(', ')})`);
    }
    const dir = resolve(flags.out ?? `${basename(flags.model, extname(flags.model))}-tfjs`);
    // Folding and serialising are a few passes over the weights: the reference backend is exact and always there.
    await useBackend('cpu');
    // A missing or corrupt checkpoint fails here, before anything is written.
    const { model, checkpoint } = loadModel(resolveModelPath(flags.model));
    try {
      const c = model.config;
      if (!flags.json) {
        io.out(`exporting ${flags.model}: ${c.stacks} stack(s), ${c.features} features, ${c.joints} joints, input ${c.inputSize}x${c.inputSize}`);
      }
      const result = await exportTfjs(model, dir, { meta: checkpoint.meta });
      if (flags.json) {
        io.out(JSON.stringify({ files: result.files, bytes: result.bytes, dir: result.dir }));
        return 0;
      }
      for (const file of result.files) io.out(`  wrote ${file}`);
      io.out(`TF.js LayersModel in ${result.dir} (${size(result.bytes)}): tf.loadLayersModel('<url of>/model.json');`
        + ` input [N, ${c.inputSize}, ${c.inputSize}, 3] RGB in [0, 1], output the last stack's heatmaps [N, ${c.inputSize / 4}, ${c.inputSize / 4}, ${c.joints}]`);
      return 0;
    } finally {
      model.dispose();
    }
  },
};
