// Test scenes for bench/people.ts (issue 17): people from LSPET images pasted at a random place and size into a
// canvas 3-5 times larger over a blurred photo; pairs side by side; person-free images (photo regions away from the
// labelled person, stripes and checks, drawn shapes). Written for the benchmark; the detector's training scenes
// (src/detect/train-scenes.ts) share only the pixel helpers of src/detect/raster.ts.
import type { RgbImage } from '../src/data/image.js';
import { boxBlur, newCanvas, pasteRect, shrinkToCanvas, type Canvas, type Rect } from '../src/detect/raster.js';
import type { Rng } from '../src/util/rng.js';

export interface BenchPerson {
  readonly image: RgbImage;
  /** [14 * 2] joints in image pixels, [14] labelled flags. */
  readonly joints: Float32Array;
  readonly visible: Uint8Array;
  /** The joints' box (edge units). */
  readonly box: Rect;
}

export interface Placed {
  /** The person's joints in the scene. */
  readonly joints: Float32Array;
  readonly box: Rect;
}

export interface BenchScene {
  readonly canvas: Canvas;
  readonly people: Placed[];
}

function blurredBackground(rng: Rng, width: number, height: number, photo: RgbImage): Canvas {
  // Blurred at a working size of at most 256 px, then stretched to the canvas.
  const { canvas: small } = shrinkToCanvas(photo, 256);
  boxBlur(small, 2 + rng.int(3), 3);
  const canvas = newCanvas(width, height);
  pasteRect(canvas, small, { x: 0, y: 0, width: small.width, height: small.height }, { x: 0, y: 0, width, height });
  return canvas;
}

function paste(canvas: Canvas, p: BenchPerson, at: { x: number; y: number }, f: number): Placed {
  const { width, height } = p.image;
  pasteRect(canvas, p.image, { x: 0, y: 0, width, height }, { x: at.x, y: at.y, width: width * f, height: height * f });
  const joints = new Float32Array(p.joints.length);
  // Pixel centres: image x -> (x + 0.5) * f + at.x - 0.5.
  for (let i = 0; i < joints.length; i += 2) {
    joints[i] = (p.joints[i] + 0.5) * f + at.x - 0.5;
    joints[i + 1] = (p.joints[i + 1] + 0.5) * f + at.y - 0.5;
  }
  return { joints, box: { x: p.box.x * f + at.x, y: p.box.y * f + at.y, width: p.box.width * f, height: p.box.height * f } };
}

/** One person's image at 0.6-1.4x its size, at a random place in a canvas 3-5x its size over a blurred photo. */
export function singleScene(rng: Rng, person: BenchPerson, backdrop: RgbImage): BenchScene {
  const k = rng.uniform(3, 5);
  const width = Math.round(person.image.width * k);
  const height = Math.round(person.image.height * k);
  const canvas = blurredBackground(rng, width, height, backdrop);
  const f = rng.uniform(0.6, 1.4);
  const at = { x: rng.uniform(0, width - person.image.width * f), y: rng.uniform(0, height - person.image.height * f) };
  return { canvas, people: [paste(canvas, person, at, f)] };
}

/** Two people's images side by side (left and right halves) in a canvas 3-5x their size over a blurred photo. */
export function pairScene(rng: Rng, a: BenchPerson, b: BenchPerson, backdrop: RgbImage): BenchScene {
  const k = rng.uniform(3, 5);
  const width = Math.round(Math.max(a.image.width, b.image.width) * k);
  const height = Math.round(Math.max(a.image.height, b.image.height) * k);
  const canvas = blurredBackground(rng, width, height, backdrop);
  const people = [a, b].map((p, side) => {
    const f = Math.min(rng.uniform(0.6, 1.4), (width / 2) / p.image.width);
    const x = side * (width / 2) + rng.uniform(0, width / 2 - p.image.width * f);
    const y = rng.uniform(0, height - p.image.height * f);
    return paste(canvas, p, { x, y }, f);
  });
  return { canvas, people };
}

/** A person-free image of 480-800 px: a photo region away from its person, stripes or checks, or shapes. */
export function emptyScene(rng: Rng, kind: number, region: { image: RgbImage; rect: Rect } | null): BenchScene {
  const width = Math.round(rng.uniform(480, 800));
  const height = Math.round(width * rng.uniform(0.6, 1.4));
  const canvas = newCanvas(width, height);
  if (kind === 0 && region) {
    pasteRect(canvas, region.image, region.rect, { x: 0, y: 0, width, height });
    return { canvas, people: [] };
  }
  const a = [rng.uniform(), rng.uniform(), rng.uniform()];
  const b = [rng.uniform(), rng.uniform(), rng.uniform()];
  const period = rng.uniform(8, 80);
  const angle = rng.uniform(0, Math.PI);
  const checks = rng.uniform() < 0.5;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let t: number;
      if (kind === 1) {
        const u = (x * Math.cos(angle) + y * Math.sin(angle)) / period;
        const v = (-x * Math.sin(angle) + y * Math.cos(angle)) / period;
        t = checks ? (Math.floor(u) + Math.floor(v)) & 1 : 0.5 + 0.5 * Math.sin(2 * Math.PI * u);
      } else {
        t = y / height;
      }
      for (let c = 0; c < 3; c++) canvas.data[(y * width + x) * 3 + c] = a[c] * (1 - t) + b[c] * t;
    }
  }
  if (kind === 2) {
    // Circles, triangles and bars in random colours.
    for (let n = 3 + rng.int(10); n > 0; n--) {
      const colour = [rng.uniform(), rng.uniform(), rng.uniform()];
      const cx = rng.uniform(0, width);
      const cy = rng.uniform(0, height);
      const r = rng.uniform(10, width / 4);
      const shape = rng.int(3);
      for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(height, cy + r); y++) {
        for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(width, cx + r); x++) {
          const dx = (x - cx) / r;
          const dy = (y - cy) / r;
          const inside = shape === 0 ? dx * dx + dy * dy <= 1 : shape === 1 ? dy >= -1 && Math.abs(dx) <= (dy + 1) / 2 : Math.abs(dy) < 0.25;
          if (inside) canvas.data.set(colour, (y * width + x) * 3);
        }
      }
    }
  }
  return { canvas, people: [] };
}
