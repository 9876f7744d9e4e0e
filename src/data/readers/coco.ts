// COCO keypoints JSON reader: person instances (bbox -> center/scale, keypoints [x, y, v] x K) + an images folder.
// Format: cocodataset.org "Keypoint Detection" annotations (images[], annotations[], categories[]).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileFormatError } from '../../errors.js';
import { resolveSelection } from '../range.js';
import type { Dataset, Sample } from '../sample.js';
import { COCO17 } from '../skeletons/coco.js';
import type { Skeleton } from '../skeletons/types.js';
import { recordError, requireFile } from './checks.js';
import { BBOX_MARGIN, boxFromBbox } from '../../geometry/person-box.js';

export interface CocoOptions {
  /** The annotation file, e.g. `annotations/person_keypoints_val2017.json`. */
  readonly file: string;
  /** Folder holding `images[].file_name`. Images need not exist at read time. */
  readonly imagesDir: string;
  /** Keep crowd instances (iscrowd = 1); default false (they have no usable keypoints). */
  readonly includeCrowd?: boolean;
  /** Keep only instances with at least this many labelled keypoints; default 1 (skips num_keypoints = 0). */
  readonly minKeypoints?: number;
  /** Crop margin around the bbox (scale = max(w, h) * margin / 200); default 1.25. */
  readonly margin?: number;
  /** Instances to keep, numbered 1.. after the filters above, in file order: a range or indices. */
  readonly images?: string | readonly number[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNumbers(v: Json | undefined, length: number): v is number[] {
  return Array.isArray(v) && v.length === length && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

/** Reads a COCO keypoints file. Coordinates are used as written (COCO pixel coordinates start at 0). */
export function readCoco(options: CocoOptions): Dataset {
  const { file } = options;
  requireFile(file, 'COCO annotation file');
  let root: Json;
  try {
    root = JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch (e) {
    throw new FileFormatError(file, `not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(root)) throw new FileFormatError(file, 'expected a JSON object with images, annotations and categories');
  const images = arrayField(root, 'images', file);
  const annotations = arrayField(root, 'annotations', file);
  const { categoryId, skeleton } = personCategory(root, file);
  const K = skeleton.joints.length;

  const fileNames = new Map<number, string>();
  images.forEach((img, i) => {
    const where = `images[${i}]`;
    if (!isObject(img)) throw recordError(file, where, 'images', 'expected an object');
    const id = img['id'];
    const name = img['file_name'];
    if (typeof id !== 'number') throw recordError(file, where, 'id', `expected a number, got ${JSON.stringify(id)}`);
    if (typeof name !== 'string' || name === '') throw recordError(file, where, 'file_name', `expected a file name, got ${JSON.stringify(name)}`);
    fileNames.set(id, name);
  });

  const minKeypoints = options.minKeypoints ?? 1;
  const margin = options.margin ?? BBOX_MARGIN;
  const kept: Omit<Sample, 'index' | 'id'>[] = [];
  const ids: number[] = [];
  annotations.forEach((ann, i) => {
    const where = `annotations[${i}]`;
    if (!isObject(ann)) throw recordError(file, where, 'annotations', 'expected an object');
    if (categoryId !== null && ann['category_id'] !== categoryId) return;
    if (ann['iscrowd'] === 1 && options.includeCrowd !== true) return;
    const kps = ann['keypoints'];
    if (!Array.isArray(kps) || kps.length !== 3 * K) {
      throw recordError(file, where, 'keypoints', `expected ${3 * K} numbers (x, y, v for ${K} keypoints)`);
    }
    const joints = new Float32Array(K * 2);
    const visible = new Uint8Array(K);
    const occluded = new Uint8Array(K);
    let labelled = 0;
    for (let k = 0; k < K; k++) {
      const [x, y, v] = [kps[3 * k], kps[3 * k + 1], kps[3 * k + 2]];
      const field = `keypoints[${k} ${skeleton.joints[k]}]`;
      if (typeof v !== 'number' || ![0, 1, 2].includes(v)) throw recordError(file, where, `${field}.v`, `expected 0, 1 or 2, got ${JSON.stringify(v)}`);
      if (v === 0) continue;
      if (typeof x !== 'number' || !Number.isFinite(x)) throw recordError(file, where, `${field}.x`, `expected a number, got ${JSON.stringify(x)}`);
      if (typeof y !== 'number' || !Number.isFinite(y)) throw recordError(file, where, `${field}.y`, `expected a number, got ${JSON.stringify(y)}`);
      joints[2 * k] = x;
      joints[2 * k + 1] = y;
      visible[k] = 1;
      occluded[k] = v === 1 ? 1 : 0; // COCO: v = 1 labelled but not visible, v = 2 labelled and visible
      labelled++;
    }
    if (labelled < minKeypoints) return;
    const bbox = ann['bbox'];
    if (!isNumbers(bbox, 4)) throw recordError(file, where, 'bbox', `expected [x, y, width, height], got ${JSON.stringify(bbox)}`);
    const [bx = 0, by = 0, bw = 0, bh = 0] = bbox;
    if (bw <= 0 || bh <= 0) throw recordError(file, where, 'bbox', `width and height must be positive, got ${bw} x ${bh}`);
    const imageId = ann['image_id'];
    const name = typeof imageId === 'number' ? fileNames.get(imageId) : undefined;
    if (name === undefined) throw recordError(file, where, 'image_id', `${JSON.stringify(imageId)} is not the id of any entry of images[]`);
    const annId = ann['id'];
    ids.push(typeof annId === 'number' ? annId : i);
    const box = boxFromBbox([bx, by, bw, bh], margin);
    kept.push({ imagePath: join(options.imagesDir, name), joints, visible, occluded, center: box.center, scale: box.scale });
  });

  const samples: Sample[] = resolveSelection(options.images, kept.length, file).map((index) => ({
    id: `coco:${index}:${ids[index - 1]}`,
    index,
    ...kept[index - 1]!,
  }));
  return { name: 'coco', skeleton, samples, boxRule: 'as-is', source: file };
}

function arrayField(root: JsonObject, name: string, file: string): Json[] {
  const v = root[name];
  if (!Array.isArray(v)) throw new FileFormatError(file, `field '${name}' is missing or not an array`);
  return v;
}

/**
 * The person category: its id (null when the file has no categories: every annotation counts) and skeleton.
 * The standard 17 keypoint names give COCO17; other names give a skeleton built from the category, with
 * flip pairs matched by 'left'/'right' in the names and edges from its 1-based `skeleton` field.
 */
function personCategory(root: JsonObject, file: string): { categoryId: number | null; skeleton: Skeleton } {
  const cats = root['categories'];
  if (cats === undefined) return { categoryId: null, skeleton: COCO17 };
  if (!Array.isArray(cats)) throw new FileFormatError(file, `field 'categories' is not an array`);
  const withKeypoints = cats.filter((c): c is JsonObject => isObject(c) && Array.isArray(c['keypoints']));
  const cat = withKeypoints.find((c) => c['name'] === 'person') ?? withKeypoints[0];
  if (cat === undefined) throw new FileFormatError(file, `no entry of 'categories' has keypoints`);
  const id = cat['id'];
  if (typeof id !== 'number') throw recordError(file, 'categories', 'id', `expected a number, got ${JSON.stringify(id)}`);
  const names = cat['keypoints'];
  if (!Array.isArray(names) || !names.every((n): n is string => typeof n === 'string')) {
    throw recordError(file, 'categories', 'keypoints', 'expected a list of names');
  }
  if (names.length === COCO17.joints.length && names.every((n, i) => n === COCO17.joints[i])) {
    return { categoryId: id, skeleton: COCO17 };
  }
  const edgesJson = Array.isArray(cat['skeleton']) ? cat['skeleton'] : [];
  const edges: [number, number][] = [];
  for (const e of edgesJson) {
    if (!isNumbers(e, 2) || !e.every((v) => Number.isInteger(v) && v >= 1 && v <= names.length)) {
      throw recordError(file, 'categories', 'skeleton', `bad edge ${JSON.stringify(e)} (expected [a, b], 1-based)`);
    }
    edges.push([e[0]! - 1, e[1]! - 1]);
  }
  const flipPairs: [number, number][] = [];
  names.forEach((n, i) => {
    if (!/left/i.test(n)) return;
    const j = names.indexOf(n.replace(/left/, 'right').replace(/Left/, 'Right').replace(/LEFT/, 'RIGHT'));
    if (j >= 0) flipPairs.push([i, j]);
  });
  return { categoryId: id, skeleton: { id: `coco-${String(cat['name'] ?? id)}`, joints: names, flipPairs, groups: [], edges } };
}
