// Training scenes for the person detector (src/detect/train.ts): people from the training datasets either filling
// the frame (a real photo, as users give) or pasted at random sizes and places over person-free backgrounds (real
// photo regions away from the labelled person, blurred photos, drawn shapes), with person-free patches pasted as
// distractors, and scenes with nobody; letterbox bars as non-square images get. Boxes are joints' boxes.
import type { RasterImage } from '../geometry/affine.js';
import type { Rng } from '../util/rng.js';
import { boxBlur, newCanvas, pasteRect, type Canvas, type Rect } from './raster.js';

/** One image at a few sizes (largest first) so that pasting never shrinks more than ~2x in one step. */
export interface Pyramid {
  readonly levels: readonly RasterImage[];
}

export interface PersonImage {
  readonly image: Pyramid;
  /** The labelled person's joints' box in level-0 pixels (edge units). */
  readonly box: Rect;
}

export interface BackgroundRegion {
  readonly image: Pyramid;
  /** A person-free region of level 0 (edge units). */
  readonly rect: Rect;
}

export interface Scene {
  readonly canvas: Canvas;
  readonly boxes: Rect[];
}

/** Pastes `from` (level-0 units) of a pyramid into `to`, from the smallest level that is still >= the target size. */
export function pasteFromPyramid(canvas: Canvas, p: Pyramid, from: Rect, to: Rect, alpha = 1): void {
  const base = p.levels[0];
  let level = base;
  for (const l of p.levels) {
    const f = l.width / base.width;
    if (from.width * f >= to.width && from.height * f >= to.height) level = l;
  }
  const f = level.width / base.width;
  const g = level.height / base.height;
  pasteRect(canvas, level, { x: from.x * f, y: from.y * g, width: from.width * f, height: from.height * g }, to, alpha);
}

function logUniform(rng: Rng, lo: number, hi: number): number {
  return Math.exp(rng.uniform(Math.log(lo), Math.log(hi)));
}

/** A random sub-rectangle of `rect` with at least `minFraction` of each side. */
function subRect(rng: Rng, rect: Rect, minFraction: number): Rect {
  const w = rect.width * rng.uniform(minFraction, 1);
  const h = rect.height * rng.uniform(minFraction, 1);
  return { x: rect.x + rng.uniform(0, rect.width - w), y: rect.y + rng.uniform(0, rect.height - h), width: w, height: h };
}

function drawShapes(rng: Rng, canvas: Canvas, area: Rect, count: number): void {
  for (let n = 0; n < count; n++) {
    const colour = [rng.uniform(), rng.uniform(), rng.uniform()];
    const w = logUniform(rng, 3, area.width);
    const h = logUniform(rng, 3, area.height);
    const x0 = area.x + rng.uniform(-w / 2, area.width - w / 2);
    const y0 = area.y + rng.uniform(-h / 2, area.height - h / 2);
    const ellipse = rng.uniform() < 0.4;
    for (let y = Math.max(0, Math.floor(y0)); y < Math.min(canvas.height, Math.ceil(y0 + h)); y++) {
      for (let x = Math.max(0, Math.floor(x0)); x < Math.min(canvas.width, Math.ceil(x0 + w)); x++) {
        if (ellipse && ((x + 0.5 - x0 - w / 2) / (w / 2)) ** 2 + ((y + 0.5 - y0 - h / 2) / (h / 2)) ** 2 > 1) continue;
        canvas.data.set(colour, (y * canvas.width + x) * 3);
      }
    }
  }
}

function background(rng: Rng, canvas: Canvas, area: Rect, people: readonly PersonImage[], regions: readonly BackgroundRegion[]): void {
  const r = rng.uniform();
  if (r < 0.45 && regions.length > 0) {
    const region = regions[rng.int(regions.length)];
    pasteFromPyramid(canvas, region.image, subRect(rng, region.rect, 0.4), area);
    if (rng.uniform() < 0.3) boxBlur(canvas, 1 + rng.int(2));
  } else if (r < 0.7) {
    const other = people[rng.int(people.length)].image;
    const base = other.levels[0];
    pasteFromPyramid(canvas, other, subRect(rng, { x: 0, y: 0, width: base.width, height: base.height }, 0.5), area);
    boxBlur(canvas, 2 + rng.int(4), 3);
  } else {
    const a = [rng.uniform(), rng.uniform(), rng.uniform()];
    const b = [rng.uniform(), rng.uniform(), rng.uniform()];
    for (let y = Math.floor(area.y); y < Math.ceil(area.y + area.height); y++) {
      const t = (y - area.y) / area.height;
      for (let x = Math.floor(area.x); x < Math.ceil(area.x + area.width); x++) {
        for (let c = 0; c < 3; c++) canvas.data[(y * canvas.width + x) * 3 + c] = a[c] * (1 - t) + b[c] * t + rng.uniform(-0.04, 0.04);
      }
    }
    drawShapes(rng, canvas, area, rng.int(16));
    if (rng.uniform() < 0.5) boxBlur(canvas, 1);
  }
}

/** The area a non-square photo fills after letterboxing into the square (the rest stays black). */
function contentArea(rng: Rng, size: number): Rect {
  if (rng.uniform() < 0.6) return { x: 0, y: 0, width: size, height: size };
  const short = Math.round(size * rng.uniform(0.5, 0.95));
  const offset = Math.round((size - short) / 2);
  return rng.uniform() < 0.5 ? { x: 0, y: offset, width: size, height: short } : { x: offset, y: 0, width: short, height: size };
}

/** A random training scene of size x size pixels with its people's boxes. */
export function sampleScene(rng: Rng, size: number, people: readonly PersonImage[], regions: readonly BackgroundRegion[]): Scene {
  const canvas = newCanvas(size, size);
  const area = contentArea(rng, size);
  const boxes: Rect[] = [];
  const mode = rng.uniform();
  if (mode < 0.3) {
    // A photo of one person filling the frame, zoomed out or in a little around the person.
    const person = people[rng.int(people.length)];
    const base = person.image.levels[0];
    const zoom = rng.uniform(0.7, 1.3);
    const k = Math.min(area.width / base.width, area.height / base.height) * zoom;
    const cx = person.box.x + person.box.width / 2;
    const cy = person.box.y + person.box.height / 2;
    const shift = () => rng.uniform(-0.15, 0.15);
    const to = {
      x: area.x + area.width / 2 - cx * k + shift() * area.width,
      y: area.y + area.height / 2 - cy * k + shift() * area.height,
      width: base.width * k,
      height: base.height * k,
    };
    if (zoom < 1) background(rng, canvas, area, people, regions);
    pasteFromPyramid(canvas, person.image, { x: 0, y: 0, width: base.width, height: base.height }, to);
    boxes.push({ x: to.x + person.box.x * k, y: to.y + person.box.y * k, width: person.box.width * k, height: person.box.height * k });
  } else {
    background(rng, canvas, area, people, regions);
    const distractors = rng.int(3);
    for (let n = 0; n < distractors && regions.length > 0; n++) {
      const region = regions[rng.int(regions.length)];
      const w = logUniform(rng, 8, area.width * 0.7);
      const h = w * logUniform(rng, 0.5, 2);
      pasteFromPyramid(canvas, region.image, subRect(rng, region.rect, 0.3), {
        x: area.x + rng.uniform(-w / 4, area.width - w * 0.75), y: area.y + rng.uniform(-h / 4, area.height - h * 0.75), width: w, height: h,
      });
    }
    const count = mode < 0.75 ? 1 + (rng.uniform() < 0.35 ? 1 + rng.int(2) : 0) : 0;
    for (let n = 0; n < count; n++) {
      const person = people[rng.int(people.length)];
      const base = person.image.levels[0];
      const b = person.box;
      // The person's image around the box, a random margin on each side (clipped to the photo).
      const mx = b.width * rng.uniform(0.1, 0.8);
      const my = b.height * rng.uniform(0.1, 0.5);
      const x0 = Math.max(0, b.x - mx * rng.uniform(0.3, 1.7));
      const y0 = Math.max(0, b.y - my * rng.uniform(0.3, 1.7));
      const x1 = Math.min(base.width, b.x + b.width + mx * rng.uniform(0.3, 1.7));
      const y1 = Math.min(base.height, b.y + b.height + my * rng.uniform(0.3, 1.7));
      const side = logUniform(rng, 10, Math.min(area.width, area.height) * 0.9);
      const k = side / Math.max(b.width, b.height);
      const cx = area.x + rng.uniform(0.05, 0.95) * area.width;
      const cy = area.y + rng.uniform(0.05, 0.95) * area.height;
      const bx = cx - (b.width * k) / 2;
      const by = cy - (b.height * k) / 2;
      pasteFromPyramid(canvas, person.image, { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, {
        x: bx - (b.x - x0) * k, y: by - (b.y - y0) * k, width: (x1 - x0) * k, height: (y1 - y0) * k,
      });
      boxes.push({ x: bx, y: by, width: b.width * k, height: b.height * k });
    }
  }
  // Letterbox bars, a colour change and a mirror.
  const gain = [rng.uniform(0.7, 1.3), rng.uniform(0.7, 1.3), rng.uniform(0.7, 1.3)];
  const flip = rng.uniform() < 0.5;
  const out = new Float32Array(canvas.data.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = x >= area.x && x < area.x + area.width && y >= area.y && y < area.y + area.height;
      const o = (y * size + (flip ? size - 1 - x : x)) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = inside ? Math.min(1, Math.max(0, canvas.data[(y * size + x) * 3 + c] * gain[c])) : 0;
    }
  }
  const flipped = flip ? boxes.map((b) => ({ ...b, x: size - b.x - b.width })) : boxes;
  // People whose centre is outside the photo are not in it.
  const visible = flipped.filter((b) => {
    const cx = b.x + b.width / 2;
    const cy = b.y + b.height / 2;
    return cx >= area.x && cx < area.x + area.width && cy >= area.y && cy < area.y + area.height;
  });
  return { canvas: { data: out, width: size, height: size, channels: 3 }, boxes: visible };
}
