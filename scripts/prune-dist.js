#!/usr/bin/env node
// Removes compiled files under dist/ whose TypeScript source no longer exists (a renamed or deleted module or test),
// so that a build in an old checkout behaves like one in a fresh clone: no stale test runs, no stale module ships.
// Runs before tsc in `npm run build`.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const OUT = 'dist';
const COMPILED = /(\.d\.ts\.map|\.d\.ts|\.js\.map|\.js)$/;

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      walk(p);
      if (readdirSync(p).length === 0) rmSync(p, { recursive: true });
      continue;
    }
    const m = COMPILED.exec(name);
    if (!m) continue;
    const source = relative(OUT, p).slice(0, -m[1].length) + '.ts';
    if (!existsSync(source)) {
      rmSync(p);
      if (m[1] === '.js') console.log(`removed ${p}: its source ${source} is gone`);
    }
  }
}

// Only tsc's own output: dist/web-demo and other generated folders are not compiled from a .ts file.
for (const dir of ['src', 'tests', 'bench', 'web']) if (existsSync(join(OUT, dir))) walk(join(OUT, dir));
