// Reading people's boxes from a COCO-style detections file (`hourglass predict --boxes FILE`): a JSON array of
// { image_id, bbox: [x, y, width, height], score?, category_id? } (COCO's results format), or an object with
// "annotations" of that shape and "images" ([{ id, file_name }]) naming the files. Errors name the file and entry.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { FileFormatError } from '../errors.js';
import type { Box } from '../inference/person.js';

export interface FileBox extends Box {
  readonly score: number;
  /** Its position in the file's list (0-based), for errors. */
  readonly entry: number;
}

/** COCO's category of people; entries of other categories are skipped. */
const PERSON_CATEGORY = 1;

export interface DetectionsFile {
  readonly path: string;
  /**
   * The boxes for an image file path (matched by image_id, see readDetections); [] when none are listed. A box
   * outside the image (of `size`) is a FileFormatError naming the file, the entry and the image.
   */
  boxesFor(image: string, size: { width: number; height: number }): FileBox[];
}

/**
 * Reads a detections file. An entry's image_id matches an image whose file name (or name without extension) is that
 * string, or, when it is a number, whose name without extension is that number (COCO's 000000397133.jpg is 397133);
 * with an "images" list, image_id is its id and file_name is matched.
 */
export function readDetections(path: string): DetectionsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FileFormatError(path, code === 'ENOENT' ? 'detections file not found' : `cannot read detections file (${(err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FileFormatError(path, `not valid JSON (${(err as Error).message})`);
  }
  let entries: unknown[];
  const names = new Map<string, string>(); // image id -> file name
  if (Array.isArray(json)) {
    entries = json;
  } else if (typeof json === 'object' && json !== null && Array.isArray((json as { annotations?: unknown }).annotations)) {
    entries = (json as { annotations: unknown[] }).annotations;
    const images = (json as { images?: unknown }).images;
    if (images !== undefined) {
      if (!Array.isArray(images)) throw new FileFormatError(path, '"images" must be an array of { id, file_name }');
      images.forEach((im: unknown, i) => {
        const { id, file_name: file } = (im ?? {}) as { id?: unknown; file_name?: unknown };
        if ((typeof id !== 'number' && typeof id !== 'string') || typeof file !== 'string') {
          throw new FileFormatError(path, `images[${i}] must have an id (number or string) and a file_name (string)`);
        }
        names.set(String(id), file);
      });
    }
  } else {
    throw new FileFormatError(path, 'expected a JSON array of detections { image_id, bbox: [x, y, width, height], score } (or an object with "annotations")');
  }
  const byImage = new Map<string, FileBox[]>();
  entries.forEach((e, i) => {
    const where = `detection ${i}`;
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new FileFormatError(path, `${where} is not an object`);
    const { image_id: id, bbox, score, category_id: category } = e as Record<string, unknown>;
    if (typeof id !== 'number' && typeof id !== 'string') throw new FileFormatError(path, `${where}: image_id must be a number or a string, got ${JSON.stringify(id)}`);
    if (!Array.isArray(bbox) || bbox.length !== 4 || !bbox.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new FileFormatError(path, `${where}: bbox must be [x, y, width, height] (four numbers), got ${JSON.stringify(bbox)}`);
    }
    const [x, y, width, height] = bbox as number[];
    if (!(width >= 1 && height >= 1)) throw new FileFormatError(path, `${where}: bbox width and height must be at least 1 pixel, got ${width}x${height}`);
    if (score !== undefined && (typeof score !== 'number' || !Number.isFinite(score))) throw new FileFormatError(path, `${where}: score must be a number, got ${JSON.stringify(score)}`);
    if (category !== undefined && typeof category !== 'number') throw new FileFormatError(path, `${where}: category_id must be a number, got ${JSON.stringify(category)}`);
    if (category !== undefined && category !== PERSON_CATEGORY) return;
    const key = names.get(String(id)) ?? String(id);
    const list = byImage.get(key) ?? [];
    list.push({ x, y, width, height, score: score ?? 1, entry: i });
    byImage.set(key, list);
  });
  return {
    path,
    boxesFor(image: string, size: { width: number; height: number }): FileBox[] {
      const file = basename(image);
      const stem = basename(image, extname(image));
      const keys = [image, file, stem];
      if (/^\d+$/.test(stem)) keys.push(String(Number(stem)));
      const found = [...new Set(keys)].flatMap((key) => byImage.get(key) ?? []).sort((a, b) => a.entry - b.entry);
      for (const b of found) {
        if (b.x >= size.width || b.y >= size.height || b.x + b.width <= 0 || b.y + b.height <= 0) {
          throw new FileFormatError(path, `detection ${b.entry}: bbox ${[b.x, b.y, b.width, b.height].join(',')} lies outside ${image} (${size.width}x${size.height})`);
        }
      }
      return found;
    },
  };
}
