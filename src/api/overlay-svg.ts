// Poses drawn as SVG: for each person, limbs as lines and joints as dots coloured by confidence (red = low, yellow,
// green = high), the person box dashed; line widths and dots sized to each person's box, so a small person stays visible. Pure string building, so that the browser entry (src/browser.ts) draws what `hourglass predict`
// draws; src/api/overlay.ts composites it onto the image as PNG in Node.
import type { Skeleton } from '../data/skeletons/types.js';
import type { Pose } from './pose.js';

/** Scores at or below LOW are red, at or above HIGH green, linear in hue between (heatmap peaks of a sigma-1 target). */
const LOW = 0.1;
const HIGH = 0.6;

/** Confidence colour: hue 0 (red) to 120 (green). */
export function confidenceColour(score: number): string {
  const t = Math.min(1, Math.max(0, (score - LOW) / (HIGH - LOW)));
  return `hsl(${Math.round(120 * t)}, 90%, 50%)`;
}

/** The SVG overlay (same size as the image) of every person of a pose (nothing drawn when it has none). */
export function overlaySvg(pose: Pose, skeleton: Skeleton): string {
  const { width, height } = pose.imageSize;
  const f = (v: number) => v.toFixed(1);
  const parts: string[] = [];
  for (const person of pose.people) {
    const b = person.box;
    // Line width and dot radius follow the person's size (the whole image's 1/160 when the box is the image).
    const unit = Math.max(0.75, Math.max(b.width, b.height) / 160);
    parts.push(`<rect x="${f(b.x - 0.5)}" y="${f(b.y - 0.5)}" width="${f(b.width)}" height="${f(b.height)}" fill="none" stroke="white" stroke-opacity="0.6" stroke-width="${f(unit * 0.6)}" stroke-dasharray="${f(unit * 3)},${f(unit * 2)}"/>`);
    for (const [i, j] of skeleton.edges) {
      const a = person.keypoints[i];
      const c = person.keypoints[j];
      parts.push(`<line x1="${f(a.x)}" y1="${f(a.y)}" x2="${f(c.x)}" y2="${f(c.y)}" stroke="${confidenceColour(Math.min(a.score, c.score))}" stroke-width="${f(unit * 1.2)}" stroke-linecap="round" stroke-opacity="0.85"/>`);
    }
    for (const k of person.keypoints) {
      parts.push(`<circle cx="${f(k.x)}" cy="${f(k.y)}" r="${f(unit * 1.8)}" fill="${confidenceColour(k.score)}" stroke="black" stroke-width="${f(unit * 0.4)}"/>`);
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="-0.5 -0.5 ${width} ${height}">${parts.join('')}</svg>`;
}
