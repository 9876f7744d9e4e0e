#!/usr/bin/env node
// Trains the person detector shipped as models/person.ckpt (src/detect/train.ts); run `npm run build` first.
// node scripts/train-detector.js [--minutes 60] [--out runs/person.ckpt] [--lspet ../shared/data/lspet] [--lsp ../shared/data/lsp]
//   [--lr 1e-3] [--seed 1] [--init CKPT (continue from a checkpoint's weights)]
import { parseArgs } from 'node:util';
import { useBackend } from '../dist/src/backend/select.js';
import { trainDetector } from '../dist/src/detect/train.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    out: { type: 'string', default: 'runs/person.ckpt' },
    lspet: { type: 'string', default: '../shared/data/lspet' },
    lsp: { type: 'string', default: '../shared/data/lsp' },
    'lspet-images': { type: 'string', default: '1-5500' },
    'lsp-images': { type: 'string', default: '1-1000' },
    batch: { type: 'string', default: '16' },
    lr: { type: 'string', default: '1e-3' },
    seed: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'native' },
    init: { type: 'string' },
  },
});
await useBackend(values.backend);
await trainDetector({
  lspet: values.lspet, lsp: values.lsp === 'none' ? null : values.lsp, lspetImages: values['lspet-images'], lspImages: values['lsp-images'],
  minutes: Number(values.minutes), out: values.out, batch: Number(values.batch), lr: Number(values.lr), seed: Number(values.seed), init: values.init ?? null,
  log: (line) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`),
});
