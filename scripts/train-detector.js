#!/usr/bin/env node
// Trains the person detector shipped as models/person.ckpt (src/detect/train.ts); run `npm run build` first.
// The defaults are the shipped detector's recipe (docs/models/person.md):
// node scripts/train-detector.js [--minutes 75] [--out runs/person.ckpt] [--lspet ../shared/data/lspet] [--lsp ../shared/data/lsp]
//   [--lr 5e-4] [--seed 4] [--features 128]
//   [--init lsp14: a pose model whose first stack the detector starts from, or a detector to continue; 'none': from scratch]
import { parseArgs } from 'node:util';
import { useBackend } from '../dist/src/backend/select.js';
import { trainDetector } from '../dist/src/detect/train.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '75' },
    out: { type: 'string', default: 'runs/person.ckpt' },
    lspet: { type: 'string', default: '../shared/data/lspet' },
    lsp: { type: 'string', default: '../shared/data/lsp' },
    'lspet-images': { type: 'string', default: '1-5500' },
    'lsp-images': { type: 'string', default: '1-1000' },
    batch: { type: 'string', default: '16' },
    lr: { type: 'string', default: '5e-4' },
    seed: { type: 'string', default: '4' },
    backend: { type: 'string', default: 'native' },
    init: { type: 'string', default: 'lsp14' },
    features: { type: 'string', default: '128' },
  },
  strict: true,
});
for (const name of ['minutes', 'batch', 'lr', 'seed', 'features']) {
  const v = Number(values[name]);
  if (!Number.isFinite(v) || v <= 0 || (['batch', 'features'].includes(name) && !Number.isInteger(v))) {
    console.error(`hourglass train-detector: --${name} must be a positive ${['batch', 'features'].includes(name) ? 'integer' : 'number'}, got '${values[name]}'`);
    process.exit(2);
  }
}
await useBackend(values.backend);
await trainDetector({
  lspet: values.lspet, lsp: values.lsp === 'none' ? null : values.lsp, lspetImages: values['lspet-images'], lspImages: values['lsp-images'],
  minutes: Number(values.minutes), out: values.out, batch: Number(values.batch), lr: Number(values.lr), seed: Number(values.seed), init: values.init === 'none' ? null : values.init, features: Number(values.features),
  log: (line) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`),
});
