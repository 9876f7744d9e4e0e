// When 'auto' cannot use native, the CLI and createEstimator say so once, in one line, with the command that builds
// it: `npm rebuild hourglass` where the package is installed in a project, `npm run build:native` in a clone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeBuildCommand } from '../../src/backend/native/addon.js';
import { HourglassModel } from '../../src/model/model.js';
import { saveModel } from '../../src/model/checkpoint.js';
import { LSP14 } from '../../src/data/skeletons/lsp.js';
import { REPO } from '../data/paths.js';

test('the build command fits where the package is', () => {
  assert.match(nativeBuildCommand('/home/me/app/node_modules/hourglass'), /apt-get install libdnnl-dev g\+\+, then npm rebuild hourglass$/);
  assert.match(nativeBuildCommand('/home/me/src/hourglass'), /then npm run build:native$/);
});

test('createEstimator and the CLI print one line, once, when native is not in use', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hg-notice-'));
  const model = HourglassModel.create({ stacks: 1, features: 8, modules: 1, joints: 14, inputSize: 64, depth: 1 }, 5);
  const ckpt = join(dir, 'tiny.ckpt');
  await saveModel(ckpt, model, { meta: { skeleton: LSP14 } });
  model.dispose();
  const env: NodeJS.ProcessEnv = { ...process.env, HOURGLASS_NATIVE_ADDON: join(dir, 'absent.node') };
  delete env['HOURGLASS_NO_NATIVE_NOTICE'];
  const script = `const { createEstimator } = await import(${JSON.stringify(join(REPO, 'dist', 'src', 'index.js'))});
    for (let i = 0; i < 2; i++) { const e = await createEstimator({ model: ${JSON.stringify(ckpt)} }); console.log(e.backend); e.dispose(); }`;
  const api = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
  assert.equal(api.status, 0, api.stderr);
  assert.deepEqual(api.stdout.trim().split('\n'), ['wasm', 'wasm']);
  const notices = api.stderr.split('\n').filter((l) => l.startsWith('hourglass:'));
  assert.equal(notices.length, 1, api.stderr);
  assert.match(notices[0], /^hourglass: using wasm, not the faster native backend: native addon not built: .*absent\.node is missing; to build it: apt-get install libdnnl-dev g\+\+, then npm run build:native$/);
  const cli = spawnSync(process.execPath, [join(REPO, 'bin', 'hourglass.js'), 'predict', join(REPO, 'tests', 'fixtures', 'lspet', 'images', 'im00001.jpg'),
    '--model', ckpt, '--out', join(dir, 'out'), '--no-overlay'], { env, encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.equal(cli.stderr.split('\n').filter((l) => l.includes('not the faster native backend')).length, 1, cli.stderr);
  const quiet = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...env, HOURGLASS_NO_NATIVE_NOTICE: '1' }, encoding: 'utf8' });
  assert.equal(quiet.status, 0, quiet.stderr);
  assert.doesNotMatch(quiet.stderr, /native backend/);
});
