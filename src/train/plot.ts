// A small SVG plot of a run, refreshed each epoch next to the checkpoints: training loss against images seen
// (left) and the validation metric per epoch (right). No dependencies: the SVG is written by hand.

export interface PlotData {
  /** [images seen, loss] per log interval. */
  readonly loss: readonly (readonly [number, number])[];
  /** [epoch (1-based), metric %] per validation. */
  readonly metric: readonly (readonly [number, number])[];
  readonly metricName: string;
  readonly title: string;
}

const W = 420;
const H = 260;
const M = { left: 56, right: 16, top: 30, bottom: 40 };

function panel(x0: number, points: readonly (readonly [number, number])[], title: string, xLabel: string, logY: boolean, colour: string): string {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const pts = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0));
  const parts = [`<g transform="translate(${x0},0)">`, `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${escape(title)}</text>`];
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  parts.push(`<text x="${M.left + pw / 2}" y="${H - 8}" text-anchor="middle" font-size="11">${escape(xLabel)}</text>`);
  if (pts.length > 0) {
    const fy = (y: number) => (logY ? Math.log10(y) : y);
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => fy(p[1]));
    const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
    let [yMin, yMax] = [Math.min(...ys), Math.max(...ys)];
    if (yMax - yMin < 1e-9) [yMin, yMax] = [yMin - 1, yMax + 1];
    const sx = (x: number) => M.left + (xMax > xMin ? ((x - xMin) / (xMax - xMin)) * pw : pw / 2);
    const sy = (y: number) => M.top + ph - ((fy(y) - yMin) / (yMax - yMin)) * ph;
    const path = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
    if (pts.length < 60) for (const [x, y] of pts) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${colour}"/>`);
    const fmt = (v: number) => (logY ? (10 ** v).toExponential(1) : v.toFixed(1));
    parts.push(`<text x="${M.left - 4}" y="${M.top + 10}" text-anchor="end" font-size="10">${fmt(yMax)}</text>`);
    parts.push(`<text x="${M.left - 4}" y="${M.top + ph}" text-anchor="end" font-size="10">${fmt(yMin)}</text>`);
    parts.push(`<text x="${M.left}" y="${M.top + ph + 14}" font-size="10">${xMin}</text>`);
    parts.push(`<text x="${M.left + pw}" y="${M.top + ph + 14}" text-anchor="end" font-size="10">${xMax}</text>`);
  } else {
    parts.push(`<text x="${M.left + pw / 2}" y="${M.top + ph / 2}" text-anchor="middle" font-size="11" fill="#999">no data yet</text>`);
  }
  parts.push('</g>');
  return parts.join('\n');
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderPlot(data: PlotData): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 20}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${W}" y="${H + 14}" text-anchor="middle" font-size="12" fill="#444">${escape(data.title)}</text>`,
    panel(0, data.loss, 'training loss (log scale)', 'images seen', true, '#1f77b4'),
    panel(W, data.metric, `validation ${data.metricName} (%)`, 'epoch', false, '#d62728'),
    '</svg>',
  ].join('\n');
}
