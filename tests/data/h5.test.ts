// Tests of the original code's .h5 annotation reader (MPII, FLIC fixtures) and of prediction files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { readDataset, readPredictionsH5 } from '../../src/data/readers/index.js';
import { readH5Annotations } from '../../src/data/readers/h5.js';
import { cropBox } from '../../src/data/sample.js';
import { FLIC11 } from '../../src/data/skeletons/flic.js';
import { MPII16 } from '../../src/data/skeletons/mpii.js';
import { FileFormatError } from '../../src/errors.js';
import { FIXTURES } from './paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'hg-h5-'));

/** Writes an .h5 file in the original layout with N records of K joints; `edit` may change datasets first. */
async function writeAnnotations(name: string, N: number, K: number, edit: (d: Map<string, Float64Array | string[]>) => void = () => {}): Promise<string> {
  await h5wasm.ready;
  const d = new Map<string, Float64Array | string[]>();
  d.set('center', Float64Array.from({ length: 2 * N }, (_, i) => 50 + i));
  d.set('scale', new Float64Array(N).fill(1.5));
  d.set('part', Float64Array.from({ length: N * K * 2 }, (_, i) => 1 + (i % 97)));
  d.set('visible', new Float64Array(N * K).fill(1));
  d.set('normalize', new Float64Array(N).fill(30));
  d.set('imgname', Array.from({ length: N }, (_, i) => `img${i}.jpg`));
  edit(d);
  const file = join(tmp, name);
  const f = new h5wasm.File(file, 'w');
  const shapes: Record<string, number[]> = { center: [N, 2], scale: [N], part: [N, K, 2], visible: [N, K], normalize: [N] };
  for (const [key, value] of d) {
    if (Array.isArray(value)) f.create_dataset({ name: key, data: value });
    else f.create_dataset({ name: key, data: value, shape: shapes[key] ?? [value.length] });
  }
  f.close();
  return file;
}

test('MPII fixture: 5 records, MPII-16, head-size normaliser, MATLAB origin removed, MPII crop rule', async () => {
  const d = await readDataset({ format: 'mpii', root: join(FIXTURES, 'mpii') });
  assert.equal(d.name, 'mpii');
  assert.equal(d.skeleton, MPII16);
  assert.equal(d.boxRule, 'mpii');
  assert.equal(d.samples.length, 5);
  const s = d.samples[0]!;
  // First record of valid.h5: image 005808361.jpg, center (966, 410.777...), scale 5.898..., part[0] = (804, 711).
  assert.equal(s.imagePath, join(FIXTURES, 'mpii', 'images', '005808361.jpg'));
  assert.ok(!existsSync(s.imagePath), 'MPII images are not in the repository: reading must not need them');
  assert.deepEqual(Array.from(s.joints.slice(0, 2)), [803, 710]);
  assert.equal(s.center[0], 965);
  assert.ok(Math.abs(s.center[1] - 409.77731840074193) < 1e-9);
  assert.ok(Math.abs(s.scale - 5.898109866728492) < 1e-12);
  assert.ok(Math.abs(s.normalize! - 117.96219733456985) < 1e-12);
  const box = cropBox(s, d.boxRule);
  assert.ok(Math.abs(box.center[1] - (s.center[1] + 15 * s.scale)) < 1e-9);
  assert.ok(Math.abs(box.scale - s.scale * 1.25) < 1e-12);
  assert.deepEqual(cropBox(s, 'as-is'), { center: [...s.center], scale: s.scale });
});

test('h5: a joint is labelled unless part is exactly (0, 0); visible = 0 marks it occluded', async () => {
  const file = await writeAnnotations('labels.h5', 2, 3, (d) => {
    const part = d.get('part') as Float64Array;
    part.set([0, 0], 0); // record 1, joint 0: missing
    part.set([0, 40], 2); // record 1, joint 1: x = 0 but labelled
    part.set([25, -7], 4); // record 1, joint 2: above the image, labelled
    (d.get('visible') as Float64Array)[1] = 0;
  });
  const skeleton = { ...FLIC11, id: 'three', joints: ['a', 'b', 'c'], flipPairs: [], groups: [], edges: [] };
  const d = await readH5Annotations({ file, imagesDir: tmp, skeleton, name: 't', boxRule: 'as-is' });
  const s = d.samples[0]!;
  assert.deepEqual(Array.from(s.visible), [0, 1, 1]);
  assert.deepEqual(Array.from(s.occluded!), [0, 1, 0]);
  assert.deepEqual(Array.from(s.joints), [0, 0, -1, 39, 24, -8]);
  const raw = await readH5Annotations({ file, imagesDir: tmp, skeleton, name: 't', boxRule: 'as-is', origin: 0, images: '2' });
  assert.equal(raw.samples[0]!.id, 't:2');
  assert.equal(raw.samples[0]!.center[0], 52);
});

test('FLIC fixture: 11 joints, torso normaliser, images present', async () => {
  const d = await readDataset({ format: 'flic', root: join(FIXTURES, 'flic'), split: 'valid', checkImages: 'require' });
  assert.equal(d.skeleton, FLIC11);
  assert.equal(d.samples.length, 3);
  const s = d.samples[0]!;
  assert.ok(s.imagePath.endsWith('12-oclock-high-special-edition-00171221.jpg'));
  // FLIC `normalize` is the right shoulder (3) to left hip (6) distance.
  const dist = Math.hypot(s.joints[6]! - s.joints[12]!, s.joints[7]! - s.joints[13]!);
  assert.ok(Math.abs(dist - s.normalize!) < 1e-3, `${dist} vs ${s.normalize}`);
  assert.deepEqual(Array.from(s.visible), new Array(11).fill(1));
});

test('h5: errors name the file, the dataset or record and the field', async () => {
  const args = { imagesDir: tmp, skeleton: MPII16, name: 'mpii', boxRule: 'mpii' as const };
  const missing = join(tmp, 'absent.h5');
  await assert.rejects(readH5Annotations({ ...args, file: missing }), (e: unknown) => e instanceof FileFormatError && e.message === `${missing}: HDF5 annotation file does not exist`);
  const text = join(tmp, 'text.h5');
  writeFileSync(text, 'center,scale\n1,2\n');
  await assert.rejects(readH5Annotations({ ...args, file: text }), /text\.h5: not an HDF5 file/);
  await assert.rejects(readH5Annotations({ ...args, file: join(FIXTURES, 'flic', 'valid.h5') }), /valid\.h5: dataset 'part' has shape 3x11x2; expected 3x16x2/);
  const noScale = await writeAnnotations('noscale.h5', 2, 16, (d) => d.delete('scale'));
  await assert.rejects(readH5Annotations({ ...args, file: noScale }), /noscale\.h5: dataset 'scale' is missing \(datasets present: /);
  const nan = await writeAnnotations('nan.h5', 3, 16, (d) => { (d.get('part') as Float64Array)[(2 * 16 + 4) * 2 + 1] = NaN; });
  await assert.rejects(readH5Annotations({ ...args, file: nan }), /nan\.h5: record 3, field 'part\[4 left_knee\]\.y': expected a finite number, got NaN/);
  const badScale = await writeAnnotations('scale.h5', 2, 16, (d) => { (d.get('scale') as Float64Array)[1] = -1; });
  await assert.rejects(readH5Annotations({ ...args, file: badScale }), /record 2, field 'scale': expected a positive number, got -1/);
  await assert.rejects(readDataset({ format: 'mpii', root: join(tmp, 'nowhere') }), /nowhere: MPII dataset root folder does not exist/);
});

test('readPredictionsH5: N x K x 2 predictions, origin removed like the annotations', async () => {
  await h5wasm.ready;
  const file = join(tmp, 'preds.h5');
  const f = new h5wasm.File(file, 'w');
  f.create_dataset({ name: 'preds', data: Float64Array.from({ length: 2 * 16 * 2 }, (_, i) => i + 1), shape: [2, 16, 2] });
  f.close();
  const p = await readPredictionsH5(file);
  assert.equal(p.count, 2);
  assert.equal(p.numJoints, 16);
  assert.deepEqual(Array.from(p.points.slice(0, 3)), [0, 1, 2]);
  await assert.rejects(readPredictionsH5(join(FIXTURES, 'mpii', 'valid.h5')), /dataset 'preds' is missing/);
});

test('a truncated or damaged .h5 is one error naming the file, without HDF5\'s diagnostic stack on stderr', async () => {
  const whole = await writeAnnotations('whole.h5', 40, 11);
  const { readFileSync } = await import('node:fs');
  const bytes = readFileSync(whole);
  const cut = join(tmp, 'cut.h5');
  writeFileSync(cut, bytes.subarray(0, bytes.length >> 1));
  const damaged = join(tmp, 'damaged.h5');
  const edited = Buffer.from(bytes);
  edited.fill(0xa5, 100, edited.length - 100); // the superblock survives; object headers and data do not
  writeFileSync(damaged, edited);
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    await assert.rejects(readH5Annotations({ file: cut, imagesDir: tmp, skeleton: FLIC11, name: 'flic', boxRule: 'as-is' }),
      (err: unknown) => err instanceof FileFormatError && err.file === cut && /truncated: the file has \d+ bytes, its HDF5 header says \d+/.test(err.message));
    await assert.rejects(readH5Annotations({ file: damaged, imagesDir: tmp, skeleton: FLIC11, name: 'flic', boxRule: 'as-is' }),
      (err: unknown) => err instanceof FileFormatError && err.file === damaged && !err.message.includes('\n'));
  } finally {
    process.stderr.write = write;
  }
  assert.deepEqual(written.filter((w) => /HDF5-DIAG|#0\d\d:/.test(w)), [], 'HDF5 printed its stack');
});
