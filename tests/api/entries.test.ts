// The package's two Node entries (docs/library.md "Two entries"): 'hourglass' (src/index.ts) is the narrow public API
// and 'hourglass/internals' (src/internals.ts) the building blocks beneath it; no name is in both, the documents'
// imports name what their entry has, and package.json's exports lead to files that exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as main from '../../src/index.js';
import * as internals from '../../src/internals.js';
import { REPO } from '../data/paths.js';

const INTERNAL = ['ParamStore', 'registerModelOps', 'assignWeights', 'saveCheckpoint', 'heatmapLoss', 'StackedHourglass', 'Hourglass',
  'toLayersModel', 'predictImage', 'parseQueueUrl', 'keypointsInBox', 'predictCrops'];

test('the main entry has the estimator, models, codec, skeletons, errors and queue, and none of the internals', () => {
  for (const name of ['createEstimator', 'loadModel', 'saveModel', 'BUNDLED_MODELS', 'HourglassModel', 'HeatmapCodec', 'decodeBatch',
    'cropTransform', 'LSP14', 'MPII16', 'BUILTIN_SKELETONS', 'pckh', 'useBackend', 'HourglassError', 'InvalidArgumentError',
    'FileFormatError', 'enqueue', 'runWorker', 'queueStatus', 'averageCheckpoints', 'initialiseFrom', 'exportTfjs', 'tf']) {
    assert.ok(name in main, `'hourglass' should export ${name}`);
  }
  for (const name of INTERNAL) assert.ok(!(name in main), `'hourglass' should not export ${name} (an internal)`);
  assert.ok(Object.keys(main).length <= 60, `'hourglass' exports ${Object.keys(main).length} values: keep it narrow`);
});

test('the internals entry has the building blocks, and nothing the main entry has', () => {
  for (const name of INTERNAL) assert.ok(name in internals, `'hourglass/internals' should export ${name}`);
  const both = Object.keys(internals).filter((name) => name in main);
  assert.deepEqual(both, [], `exported by both entries: ${both.join(', ')}`);
});

/** `import { a, type B, c as d } from '<specifier>'` in the markdown under docs/ and the README: [file, specifier, value names]. */
function documentedImports(): [string, string, string[]][] {
  const files = ['README.md', ...readdirSync(join(REPO, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
  const found: [string, string, string[]][] = [];
  for (const file of files) {
    const text = readFileSync(join(REPO, file), 'utf8');
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(hourglass(?:\/internals)?)'/g)) {
      const names = m[1].split(',').map((n) => n.trim()).filter((n) => n !== '' && !n.startsWith('type '))
        .map((n) => n.split(/\s+as\s+/)[0]);
      found.push([file, m[2], names]);
    }
  }
  return found;
}

test('every name the documents import from an entry is exported by it', () => {
  const imports = documentedImports();
  assert.ok(imports.some(([, specifier]) => specifier === 'hourglass'), 'the documents import from hourglass');
  assert.ok(imports.some(([, specifier]) => specifier === 'hourglass/internals'), 'the documents import from hourglass/internals');
  for (const [file, specifier, names] of imports) {
    const entry: object = specifier === 'hourglass' ? main : internals;
    for (const name of names) assert.ok(name in entry, `${file}: ${name} is not exported by '${specifier}'`);
  }
});

test('package.json exports lead to built files for each entry and condition', () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { exports: Record<string, Record<string, string>> };
  assert.deepEqual(Object.keys(pkg.exports).sort(), ['.', './browser', './internals']);
  for (const [entry, conditions] of Object.entries(pkg.exports)) {
    for (const [condition, path] of Object.entries(conditions)) assert.ok(existsSync(join(REPO, path)), `${entry} ${condition}: ${path} is missing`);
  }
  assert.equal(pkg.exports['./internals'].require, './cjs/internals.cjs');
});
