#!/usr/bin/env node
// Trains the person detector shipped as models/person.ckpt (src/detect/train.ts); run `npm run build` first.
// The defaults are the shipped detector's recipe (docs/models/person.md):
// node scripts/train-detector.js [--minutes 75] [--out runs/person.ckpt] [--lspet ../shared/data/lspet] [--lsp ../shared/data/lsp]
//   [--lr 5e-4] [--seed 4] [--features 128]
//   [--init lsp14: a pose model whose first stack the detector starts from, or a detector to continue; 'none': from scratch]
import { parseArgs } from '../dist/src/cli/args.js';
import { resolveModelPath } from '../dist/src/api/models.js';
import { useBackend } from '../dist/src/backend/select.js';
import { DETECTOR_CONFIG, trainDetector } from '../dist/src/detect/train.js';

const SPECS = {
  minutes: { type: 'number', above: 0, help: 'training time (default 75)' },
  out: { type: 'string', help: 'the detector checkpoint written (default runs/person.ckpt)' },
  lspet: { type: 'string', help: 'LSPET folder (default ../shared/data/lspet)' },
  lsp: { type: 'string', help: "LSP folder, or 'none' (default ../shared/data/lsp)" },
  'lspet-images': { type: 'string', help: 'LSPET images trained on (default 1-5500)' },
  'lsp-images': { type: 'string', help: 'LSP images trained on (default 1-1000)' },
  batch: { type: 'int', min: 1, help: 'scenes per step (default 16)' },
  lr: { type: 'number', above: 0, help: 'RMSprop learning rate (default 5e-4)' },
  seed: { type: 'number', above: 0, help: 'random seed (default 4)' },
  backend: { type: 'string', help: 'backend (default native)' },
  init: { type: 'string', help: "pose model (name or path) whose first stack the detector starts from, a detector to continue, or 'none' (default lsp14)" },
  features: { type: 'int', min: 1, help: `features of the hourglass, the init model's (default ${DETECTOR_CONFIG.features})` },
};
let flags;
try {
  ({ flags } = parseArgs(process.argv.slice(2), SPECS));
} catch (err) {
  console.error(`train-detector: ${err.message}`);
  process.exit(2);
}
const init = flags.init ?? 'lsp14';
const lsp = flags.lsp ?? '../shared/data/lsp';
await useBackend(flags.backend ?? 'native');
await trainDetector({
  lspet: flags.lspet ?? '../shared/data/lspet', lsp: lsp === 'none' ? null : lsp,
  lspetImages: flags['lspet-images'] ?? '1-5500', lspImages: flags['lsp-images'] ?? '1-1000',
  minutes: flags.minutes ?? 75, out: flags.out ?? 'runs/person.ckpt', batch: flags.batch ?? 16, lr: flags.lr ?? 5e-4, seed: flags.seed ?? 4,
  init: init === 'none' ? null : resolveModelPath(init), features: flags.features,
  log: (line) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`),
});
