#!/usr/bin/env node
// Plots the training loss of two runs in one small SVG (issue 16's bf16 vs fp32 parity), with each run's validation
// PCK per epoch in the legend. Usage: node scripts/plot-parity.js RUN_A RUN_B OUT.svg  (runs' log.jsonl are read)
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const [a, b, out] = process.argv.slice(2);
if (!a || !b || !out) {
  console.error('usage: node scripts/plot-parity.js RUN_A RUN_B OUT.svg');
  process.exit(2);
}

function read(dir) {
  const rows = readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const train = rows.filter((r) => r.type === 'train' && Number.isFinite(r.loss));
  // Loss against images seen, averaged over windows of 3 log lines (60 steps) to tame the per-batch noise.
  const points = [];
  for (let i = 0; i + 3 <= train.length; i += 3) {
    const w = train.slice(i, i + 3);
    points.push([w[w.length - 1].images, w.reduce((s, r) => s + r.loss, 0) / w.length]);
  }
  const val = rows.filter((r) => r.type === 'val').map((r) => `${r.mean.toFixed(2)}`);
  return { name: basename(dir), points, val };
}

const runs = [read(a), read(b)];
const W = 560, H = 300, L = 60, R = 16, T = 28, B = 70;
const all = runs.flatMap((r) => r.points);
const xMax = Math.max(...all.map((p) => p[0]));
const ys = all.map((p) => Math.log10(p[1]));
const [yMin, yMax] = [Math.min(...ys), Math.max(...ys)];
const sx = (x) => L + (x / xMax) * (W - L - R);
const sy = (y) => T + (H - T - B) * (1 - (Math.log10(y) - yMin) / (yMax - yMin || 1));
const colours = ['#1f77b4', '#d62728'];
const parts = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
  '<rect width="100%" height="100%" fill="white"/>',
  `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">training loss (log scale, 60-step means) against images seen</text>`,
  `<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#999"/>`,
  `<text x="${L - 4}" y="${T + 10}" text-anchor="end">${(10 ** yMax).toExponential(1)}</text>`,
  `<text x="${L - 4}" y="${H - B}" text-anchor="end">${(10 ** yMin).toExponential(1)}</text>`,
  `<text x="${L}" y="${H - B + 14}">0</text>`,
  `<text x="${W - R}" y="${H - B + 14}" text-anchor="end">${xMax}</text>`,
];
runs.forEach((r, i) => {
  const d = r.points.map(([x, y], j) => `${j ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
  parts.push(`<path d="${d}" fill="none" stroke="${colours[i]}" stroke-width="1.3"/>`);
  parts.push(`<text x="${L}" y="${H - B + 32 + 16 * i}" fill="${colours[i]}">${r.name}: validation PCK@0.2 per epoch ${r.val.join(', ') || '(none yet)'}</text>`);
});
parts.push('</svg>');
writeFileSync(out, `${parts.join('\n')}\n`);
console.log(`wrote ${out}: ${runs.map((r) => `${r.name} ${r.points.length} points, PCK ${r.val.join(', ')}`).join('; ')}`);
