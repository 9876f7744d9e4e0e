#!/usr/bin/env node
// Installs the package as a user would and uses it (`npm run test:pack`): `npm pack`, `npm install` of the tarball
// into a new project in the temporary folder, then there: the CLI (--version, doctor, predict), an ESM import, a
// CommonJS require (of both entries, 'hourglass' and 'hourglass/internals'), and the TypeScript example of
// docs/library.md compiled with its tsconfig, with a use of the internals entry beside it. Installs use npm's
// cache first (--prefer-offline: after `npm ci` nothing needs the network). Exits non-zero on the first failure.
//
// Usage: node scripts/pack-test.js [--keep]   (--keep leaves the project folder, whose path is printed)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'hg-pack-'));
const app = join(work, 'app');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd, args, cwd, { env = {} } = {}) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  const took = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) {
    console.error(`pack-test: '${cmd} ${args.join(' ')}' failed (exit ${r.status}) in ${cwd}:\n${r.stdout}\n${r.stderr}`);
    console.error(`pack-test: the project is kept in ${app}`);
    process.exit(1);
  }
  console.log(`ok (${took} s): ${[cmd, ...args].join(' ').replace(root, '<repo>')}`);
  return r;
}

function expect(condition, what, output) {
  if (!condition) {
    console.error(`pack-test: ${what}\n${output}`);
    console.error(`pack-test: the project is kept in ${app}`);
    process.exit(1);
  }
}

// 1. The tarball, as published (dist/ must be built: npm run test:pack builds it first).
run(npm, ['pack', '--ignore-scripts', '--pack-destination', work], root);
const tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz')));

// 2. A new project that installs it, and TypeScript with Node's types, as a TypeScript user would.
mkdirSync(app);
writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'pack-test-app', version: '1.0.0', private: true }, null, 2)}\n`);
run(npm, ['install', tarball, 'typescript@~5.6.3', '@types/node@^20', '--no-audit', '--no-fund', '--prefer-offline'], app);
const sample = join(app, 'node_modules', 'hourglass', 'samples', 'lspet-6613.jpg');

// 3. The CLI.
const v = run(npm, ['exec', '--', 'hourglass', '--version'], app);
expect(v.stdout.trim() === version, `hourglass --version printed '${v.stdout.trim()}', expected ${version}`, v.stderr);
const doctor = run(npm, ['exec', '--', 'hourglass', 'doctor'], app);
expect(/wasm +loads/.test(doctor.stdout) && /'auto' \(the default\) uses/.test(doctor.stdout), 'hourglass doctor lists the backends', doctor.stdout);
console.log(doctor.stdout.trim().split('\n').map((l) => `    ${l}`).join('\n'));
const predict = run(npm, ['exec', '--', 'hourglass', 'predict', sample, '--out', 'poses', '--json'], app);
const cliPose = JSON.parse(predict.stdout)[0];
expect(cliPose.keypoints.length === 14, 'predict gives 14 keypoints', predict.stdout);

// 4. ESM import and CommonJS require, each estimating the same image.
const esm = run(process.execPath, ['--input-type=module', '-e',
  `import { createEstimator } from 'hourglass'; const e = await createEstimator(); const p = await e.estimatePose(${JSON.stringify(sample)});
   console.log(JSON.stringify(p.keypoints)); e.dispose();`], app);
const cjs = run(process.execPath, ['-e',
  `const { createEstimator } = require('hourglass'); (async () => { const e = await createEstimator(); const p = await e.estimatePose(${JSON.stringify(sample)});
   console.log(JSON.stringify(p.keypoints)); e.dispose(); })();`], app);
// The internals entry, 'hourglass/internals', from both, without the main entry's names.
const internalsProbe = "console.log(typeof h.heatmapLoss, typeof h.ParamStore, 'createEstimator' in h)";
const esmInternals = run(process.execPath, ['--input-type=module', '-e', `import * as h from 'hourglass/internals'; ${internalsProbe};`], app);
const cjsInternals = run(process.execPath, ['-e', `const h = require('hourglass/internals'); ${internalsProbe};`], app);
for (const [name, out] of [['ESM import of hourglass/internals', esmInternals.stdout], ['CommonJS require of hourglass/internals', cjsInternals.stdout]]) {
  expect(out.trim() === 'function function false', `${name}: expected its functions and none of the main entry's`, out);
}
for (const [name, out] of [['ESM import', esm.stdout], ['CommonJS require', cjs.stdout]]) {
  const keypoints = JSON.parse(out.trim().split('\n').pop());
  const far = keypoints.filter((k, i) => Math.hypot(k.x - cliPose.keypoints[i].x, k.y - cliPose.keypoints[i].y) > 0.01);
  expect(keypoints.length === 14 && far.length === 0, `${name}: the keypoints differ from hourglass predict's`, out);
}

// 5. The TypeScript setup of docs/library.md: an .mts file, tsconfig with NodeNext and skipLibCheck.
writeFileSync(join(app, 'tsconfig.json'), `${JSON.stringify({
  compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, outDir: 'out' },
  files: ['pose.mts', 'internals.mts'],
}, null, 2)}\n`);
writeFileSync(join(app, 'pose.mts'), `import { createEstimator, type Pose } from 'hourglass';

const estimator = await createEstimator();
const pose: Pose = await estimator.estimatePose(${JSON.stringify(sample)});
for (const k of pose.keypoints) console.log(k.name, k.x.toFixed(1), k.y.toFixed(1), k.score.toFixed(2));
estimator.dispose();
`);
// The internals entry's types resolve too (a tiny training loss on the cpu backend).
writeFileSync(join(app, 'internals.mts'), `import { tf } from 'hourglass';
import { heatmapLoss } from 'hourglass/internals';

await tf.setBackend('cpu');
const targets = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
const loss = heatmapLoss([tf.ones([1, 2, 2, 1]) as tf.Tensor4D], targets, tf.ones([1, 1]) as tf.Tensor2D);
console.log(loss.dataSync()[0]);
`);
run(npm, ['exec', '--', 'tsc', '-p', '.'], app);
const tsInternals = run(process.execPath, [join('out', 'internals.mjs')], app);
expect(tsInternals.stdout.trim() === '1', 'the compiled internals example prints the loss 1', tsInternals.stdout);
const ts = run(process.execPath, [join('out', 'pose.mjs')], app);
expect(ts.stdout.trim().split('\n').length === 14, 'the compiled TypeScript example prints 14 joints', ts.stdout);

if (process.argv.includes('--keep')) console.log(`pack-test: the project is in ${app}`);
else rmSync(work, { recursive: true, force: true });
console.log(`pack-test: hourglass ${version} installs from its tarball and works from the CLI, ESM, CommonJS and TypeScript (both entries)`);
