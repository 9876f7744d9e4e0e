// PCK tables for people and machines: the per-joint and per-group layout of the paper's tables, and one JSON object.
import type { Subpixel } from '../codec/heatmap.js';
import type { PckSummary } from './pck.js';

/** Where the scored predictions came from: a model run (and how) or a file of given predictions. */
export type PredictionSource =
  | { readonly model: string; readonly flipTest: boolean; readonly scales: readonly number[]; readonly subpixel: Subpixel }
  | { readonly file: string };

export interface EvalReport {
  readonly dataset: string;
  readonly protocol: string;
  readonly samples: number;
  readonly summary: PckSummary;
  readonly predictions?: PredictionSource;
}

function describe(p: PredictionSource): string {
  if ('file' in p) return `predictions: ${p.file}`;
  return `predictions: ${p.model}, ${p.flipTest ? 'flip test' : 'no flip test'}, ` +
    (p.scales.length > 1 ? `crop scales ${p.scales.join(', ')}` : 'one crop scale') +
    (p.subpixel === 'quarter' ? ", the paper's quarter-pixel decoding" : '');
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');

export function formatReport(r: EvalReport): string {
  const { summary } = r;
  const groups = summary.perGroup;
  const head = groups.map((g) => g.name.padStart(9)).join('') + '     Mean';
  const values = groups.map((g) => fmt(g.pck).padStart(9)).join('') + fmt(summary.mean).padStart(9);
  const width = Math.max(...summary.perJoint.map((j) => j.name.length)) + 2;
  const joints = summary.perJoint.map((j) => `  ${j.name.padEnd(width)}${fmt(j.pck).padStart(7)}  (${j.count})`);
  return [
    `${r.dataset}: ${r.protocol} over ${summary.count} joints of ${r.samples} samples` +
      (summary.skippedSamples ? ` (${summary.skippedSamples} samples without a usable normaliser left out)` : ''),
    ...(r.predictions ? [describe(r.predictions)] : []),
    head,
    values,
    'per joint (joints counted):',
    ...joints,
  ].join('\n');
}

export function reportJson(r: EvalReport): Record<string, unknown> {
  const s = r.summary;
  return {
    dataset: r.dataset,
    protocol: r.protocol,
    samples: r.samples,
    mean: s.mean,
    count: s.count,
    perGroup: Object.fromEntries(s.perGroup.map((g) => [g.name, g.pck])),
    perJoint: Object.fromEntries(s.perJoint.map((j) => [j.name, j.pck])),
    counts: Object.fromEntries(s.perJoint.map((j) => [j.name, j.count])),
    skippedSamples: s.skippedSamples,
    ...(r.predictions ? { predictions: r.predictions } : {}),
  };
}
