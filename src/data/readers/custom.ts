// Reader of the project's own keypoints JSON ("hourglass-keypoints" v1): a skeleton plus annotated samples.
// The format is specified in CUSTOM_FORMAT.md next to this file.
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FileFormatError } from '../../errors.js';
import { resolveSelection } from '../range.js';
import type { Dataset, Sample } from '../sample.js';
import type { Skeleton } from '../skeletons/types.js';
import { recordError, requireFile } from './checks.js';
import { boxFromBbox, boxFromJoints, type PersonBox } from '../../geometry/person-box.js';

export const CUSTOM_FORMAT_ID = 'hourglass-keypoints';

export interface CustomOptions {
  /** The JSON file. */
  readonly file: string;
  /** Overrides the file's `imagesDir` (default: the JSON file's folder). */
  readonly imagesDir?: string;
  /** Samples to keep: a range such as '1-100' or 1-based indices; default all. */
  readonly images?: string | readonly number[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads and validates a custom keypoints file. */
export function readCustom(options: CustomOptions): Dataset {
  const { file } = options;
  requireFile(file, 'custom keypoints file');
  let root: Json;
  try {
    root = JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch (e) {
    throw new FileFormatError(file, `not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(root)) throw new FileFormatError(file, `expected a JSON object with "format": "${CUSTOM_FORMAT_ID}"`);
  const top = (field: string, detail: string) => recordError(file, 'top level', field, detail);
  if (root['format'] !== CUSTOM_FORMAT_ID) throw top('format', `expected "${CUSTOM_FORMAT_ID}", got ${JSON.stringify(root['format'])}`);
  if (root['version'] !== 1) throw top('version', `expected 1, got ${JSON.stringify(root['version'])}`);
  const nameJson = root['name'];
  if (nameJson !== undefined && (typeof nameJson !== 'string' || nameJson === '')) throw top('name', 'expected a non-empty string');
  const name = nameJson ?? basename(file).replace(/\.json$/i, '');
  const dirJson = root['imagesDir'];
  if (dirJson !== undefined && typeof dirJson !== 'string') throw top('imagesDir', 'expected a string');
  const imagesDir = options.imagesDir ?? resolve(dirname(file), dirJson ?? '.');
  const skeleton = parseSkeleton(root['skeleton'], name, file);
  const list = root['samples'];
  if (!Array.isArray(list)) throw top('samples', 'expected an array');

  const samples: Sample[] = resolveSelection(options.images, list.length, file).map((index) =>
    parseSample(list[index - 1]!, index, skeleton, imagesDir, name, file),
  );
  return { name, skeleton, samples, boxRule: 'as-is', source: file };
}

function indexList(v: Json | undefined, K: number, where: string, field: string, file: string, length?: number): number[] {
  const ok = Array.isArray(v) && (length === undefined || v.length === length)
    && v.every((i) => typeof i === 'number' && Number.isInteger(i) && i >= 0 && i < K);
  if (!ok) throw recordError(file, where, field, `expected ${length === undefined ? 'a list of' : length} joint indices in 0..${K - 1}, got ${JSON.stringify(v)}`);
  return v as number[];
}

function parseSkeleton(v: Json | undefined, name: string, file: string): Skeleton {
  const where = 'skeleton';
  if (!isObject(v)) throw recordError(file, 'top level', 'skeleton', 'expected an object with joints');
  const joints = v['joints'];
  if (!Array.isArray(joints) || joints.length === 0 || !joints.every((j): j is string => typeof j === 'string' && j !== '')) {
    throw recordError(file, where, 'joints', 'expected a non-empty list of joint names');
  }
  const dup = joints.find((j, i) => joints.indexOf(j) !== i);
  if (dup !== undefined) throw recordError(file, where, 'joints', `joint name '${dup}' appears twice`);
  const K = joints.length;
  const pairs = (field: string): [number, number][] => {
    const raw = v[field] ?? [];
    if (!Array.isArray(raw)) throw recordError(file, where, field, 'expected a list of [a, b] pairs');
    return raw.map((p, i) => {
      const [a = 0, b = 0] = indexList(p, K, where, `${field}[${i}]`, file, 2);
      return [a, b];
    });
  };
  const flipPairs = pairs('flipPairs');
  const used = new Set<number>();
  flipPairs.forEach(([a, b], i) => {
    if (a === b || used.has(a) || used.has(b)) {
      throw recordError(file, where, `flipPairs[${i}]`, `joint ${used.has(a) || a === b ? a : b} is already paired`);
    }
    used.add(a).add(b);
  });
  const groupsRaw = v['groups'] ?? [];
  if (!Array.isArray(groupsRaw)) throw recordError(file, where, 'groups', 'expected a list of {name, joints}');
  const groups = groupsRaw.map((g, i) => {
    if (!isObject(g) || typeof g['name'] !== 'string') throw recordError(file, where, `groups[${i}]`, 'expected {name, joints}');
    return { name: g['name'], joints: indexList(g['joints'], K, where, `groups[${i}].joints`, file) };
  });
  return { id: name, joints, flipPairs, groups, edges: pairs('edges') };
}

function parseSample(v: Json, index: number, skeleton: Skeleton, imagesDir: string, name: string, file: string): Sample {
  const where = `samples[${index - 1}]`;
  const fail = (field: string, detail: string) => recordError(file, where, field, detail);
  if (!isObject(v)) throw fail('samples', 'expected an object');
  const image = v['image'];
  if (typeof image !== 'string' || image === '') throw fail('image', `expected an image path, got ${JSON.stringify(image)}`);
  const K = skeleton.joints.length;
  const list = v['joints'];
  if (!Array.isArray(list) || list.length !== K) {
    throw fail('joints', `expected ${K} [x, y, v] entries (one per skeleton joint), got ${Array.isArray(list) ? list.length : JSON.stringify(list)}`);
  }
  const joints = new Float32Array(K * 2);
  const visible = new Uint8Array(K);
  const occluded = new Uint8Array(K);
  list.forEach((entry, k) => {
    if (!Array.isArray(entry) || entry.length !== 3) throw fail(`joints[${k}]`, `expected [x, y, v], got ${JSON.stringify(entry)}`);
    const [x, y, flag] = entry;
    if (flag !== 0 && flag !== 1 && flag !== 2) throw fail(`joints[${k}].v`, `expected 0, 1 or 2, got ${JSON.stringify(flag)}`);
    if (flag === 0) return;
    const xy = [x, y];
    for (const [c, val] of xy.entries()) {
      if (typeof val !== 'number' || !Number.isFinite(val)) {
        throw fail(`joints[${k}].${c === 0 ? 'x' : 'y'}`, `expected a finite number, got ${JSON.stringify(val)}`);
      }
      joints[2 * k + c] = val;
    }
    visible[k] = 1;
    occluded[k] = flag === 1 ? 1 : 0;
  });
  const box = personBox(v, joints, visible, fail);
  const norm = v['normalize'];
  if (norm !== undefined && (typeof norm !== 'number' || !(norm > 0))) throw fail('normalize', `expected a positive number, got ${JSON.stringify(norm)}`);
  return {
    id: `${name}:${index}`,
    index,
    imagePath: join(imagesDir, image),
    joints,
    visible,
    occluded,
    center: box.center,
    scale: box.scale,
    ...(typeof norm === 'number' ? { normalize: norm } : {}),
  };
}

function personBox(v: JsonObject, joints: Float32Array, visible: Uint8Array, fail: (f: string, d: string) => FileFormatError): PersonBox {
  const center = v['center'];
  const scale = v['scale'];
  if ((center === undefined) !== (scale === undefined)) throw fail(center === undefined ? 'center' : 'scale', 'give center and scale together');
  if (center !== undefined) {
    if (!Array.isArray(center) || center.length !== 2 || !center.every((c) => typeof c === 'number' && Number.isFinite(c))) {
      throw fail('center', `expected [x, y], got ${JSON.stringify(center)}`);
    }
    if (typeof scale !== 'number' || !(scale > 0) || !Number.isFinite(scale)) throw fail('scale', `expected a positive number, got ${JSON.stringify(scale)}`);
    return { center: [Number(center[0]), Number(center[1])], scale };
  }
  const box = v['box'];
  if (box !== undefined) {
    if (!Array.isArray(box) || box.length !== 4 || !box.every((c) => typeof c === 'number' && Number.isFinite(c))) {
      throw fail('box', `expected [x, y, width, height], got ${JSON.stringify(box)}`);
    }
    const [x, y, w, h] = box.map(Number) as [number, number, number, number];
    if (!(w > 0 && h > 0)) throw fail('box', `width and height must be positive, got ${w} x ${h}`);
    return boxFromBbox([x, y, w, h]);
  }
  const fromJoints = boxFromJoints(joints, visible);
  if (fromJoints === null) throw fail('joints', 'no center/scale or box, and fewer than two labelled joints to make one');
  return fromJoints;
}
