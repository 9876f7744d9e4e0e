// Regenerates the reader fixtures under tests/fixtures from the real data in ../shared/data (run by hand:
// `npm run build && node dist/tests/data/make-fixtures.js`). The unit tests only read what this wrote.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { matIndex, readMatArray } from '../../src/data/readers/mat.js';
import { writeMat } from './mat-writer.js';

export const DATA = process.env['HOURGLASS_DATA'] ?? join('..', 'shared', 'data');
export const FIXTURES = join('tests', 'fixtures');
/** Records (1-based) copied into each fixture. */
export const LSPET_RECORDS = 12;
export const MPII_RECORDS = 5;
export const FLIC_RECORDS = 3;

function lspet(): void {
  const src = readMatArray(join(DATA, 'lspet', 'joints.mat'), 'joints');
  const dims = [14, 3, LSPET_RECORDS];
  const data = new Float64Array(14 * 3 * LSPET_RECORDS);
  for (let n = 0; n < LSPET_RECORDS; n++) {
    for (let c = 0; c < 3; c++) {
      for (let j = 0; j < 14; j++) data[matIndex(dims, [j, c, n])] = src.data[matIndex(src.dims, [j, c, n])]!;
    }
  }
  const out = join(FIXTURES, 'lspet');
  mkdirSync(join(out, 'images'), { recursive: true });
  writeFileSync(join(out, 'joints.mat'), writeMat([{ name: 'joints', dims, data }]));
  for (let n = 1; n <= LSPET_RECORDS; n++) {
    const name = `im${String(n).padStart(5, '0')}.jpg`;
    copyFileSync(join(DATA, 'lspet', 'images', name), join(out, 'images', name));
  }
}

/** Copies the first `count` rows of every dataset of an original-code .h5 file. */
function h5Subset(src: string, dst: string, count: number): string[] {
  const f = new h5wasm.File(src, 'r');
  const g = new h5wasm.File(dst, 'w');
  let names: string[] = [];
  try {
    for (const key of f.keys()) {
      const d = f.get(key);
      if (!(d instanceof h5wasm.Dataset)) continue;
      const shape = d.shape ?? [];
      const rows: [number, number][] = [[0, count]];
      const v = d.slice(rows);
      const outShape = [count, ...shape.slice(1)];
      if (Array.isArray(v)) {
        names = v.map(String);
        g.create_dataset({ name: key, data: names });
      } else if (v instanceof BigInt64Array || v instanceof Float64Array || v instanceof Float32Array) {
        g.create_dataset({ name: key, data: v, shape: outShape });
      }
    }
  } finally {
    f.close();
    g.close();
  }
  return names;
}

async function main(): Promise<void> {
  await h5wasm.ready;
  lspet();
  mkdirSync(join(FIXTURES, 'mpii'), { recursive: true });
  h5Subset(join(DATA, 'mpii', 'valid.h5'), join(FIXTURES, 'mpii', 'valid.h5'), MPII_RECORDS);
  mkdirSync(join(FIXTURES, 'flic', 'images'), { recursive: true });
  const images = h5Subset(join(DATA, 'flic', 'valid.h5'), join(FIXTURES, 'flic', 'valid.h5'), FLIC_RECORDS);
  for (const name of new Set(images)) copyFileSync(join(DATA, 'flic', 'images', name), join(FIXTURES, 'flic', 'images', name));
  console.log(`fixtures written under ${FIXTURES}`);
}

if (process.argv[1]?.endsWith('make-fixtures.js')) await main();
