// The browser entry (src/browser.ts): an exported model loaded from a URL (through a fetch that serves the export
// folder, as a web server would) gives the keypoints the Node estimator gives on the same image; its inputs and
// hourglass.json are checked with clear errors; and it, with the demo page's script, bundles for the browser with
// no Node module in it. scripts/web-demo.js builds the demo folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { tf } from '../../src/tf.js';
import { loadEstimator, parseModelInfo, INFO_FILE, type BrowserEstimator } from '../../src/browser.js';
import { createEstimator } from '../../src/api/estimator.js';
import { HourglassModel } from '../../src/model/model.js';
import { loadModel } from '../../src/model/checkpoint.js';
import { exportTfjs } from '../../src/export/tfjs.js';
import { PERSON_DETECTOR, resolveModelPath } from '../../src/api/models.js';
import { LSP14 } from '../../src/data/skeletons/lsp.js';
import { FileFormatError, InvalidArgumentError } from '../../src/errors.js';
import { SAMPLES_DIR } from '../../src/cli/commands/predict.js';
import { useCpu } from '../helpers.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const BASE = 'http://models.test/lsp/';

/** A fetch that serves the files of `dir` under BASE (404 for anything else), counting the requests. */
function folderFetch(dir: string, requests: string[] = []): typeof fetch {
  return (async (input: RequestInfo | URL) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    requests.push(url);
    const name = url.startsWith(BASE) ? url.slice(BASE.length) : '';
    const file = join(dir, name);
    if (!name || name.includes('/') || !existsSync(file)) return new Response('not found', { status: 404 });
    return new Response(readFileSync(file), { status: 200 });
  }) as typeof fetch;
}

/** The bundled LSP-14 model exported as the demo exports it (float16 kernels). */
async function exportBundled(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'hg-browser-'));
  const { model, checkpoint } = loadModel(resolveModelPath('lsp14'));
  try {
    await exportTfjs(model, dir, { meta: checkpoint.meta, precision: 'float16' });
  } finally {
    model.dispose();
  }
  return dir;
}

/** A small random network exported to a folder, for the error cases. */
async function exportTiny(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'hg-browser-tiny-'));
  const model = HourglassModel.create({ stacks: 1, features: 8, modules: 1, joints: 14, inputSize: 64, depth: 1 }, 3);
  try {
    await exportTfjs(model, dir, { meta: { skeleton: 'lsp14' } });
  } finally {
    model.dispose();
  }
  return dir;
}

test('browser estimator from a URL: the keypoints of the Node estimator, for ImageData-like pixels and tensors', async () => {
  await useCpu();
  const dir = await exportBundled();
  const requests: string[] = [];
  const browser = await loadEstimator(`${BASE}model.json`, { fetch: folderFetch(dir, requests) });
  // Neither searches for people here: the person fills the image (the browser one was given no detector).
  const node = await createEstimator({ model: 'lsp14', backend: 'cpu', detector: false });
  try {
    assert.equal(browser.findsPeople, false);
    assert.deepEqual(requests.sort(), [`${BASE}${INFO_FILE}`, `${BASE}model.json`, `${BASE}weights.bin`].sort());
    assert.ok(node.model instanceof HourglassModel);
    assert.equal(browser.info.stacks, node.model.config.stacks);
    assert.equal(browser.info.inputSize, node.model.config.inputSize);
    assert.equal(browser.skeleton, LSP14);
    assert.equal(browser.backend, 'cpu');

    const file = join(SAMPLES_DIR, 'lspet-6132.jpg');
    const { data, info } = await sharp(file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const imageData = { data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
    const expected = await node.estimatePose(file, { flipTest: false });
    const fromPixels = await browser.estimatePose(imageData, { flipTest: false });
    const rgb = tf.tensor3d(Int32Array.from(data.filter((_, i) => i % 4 !== 3)), [info.height, info.width, 3], 'int32');
    const fromTensor = await browser.estimatePose(rgb, { flipTest: false, box: [0, 0, info.width, info.height] });
    const nodeBoxed = await node.estimatePose(file, { flipTest: false, box: [0, 0, info.width, info.height] });
    rgb.dispose();
    const scales = [1, 1.15];
    const multiScale = await browser.estimatePose(imageData, { flipTest: false, scales });
    const nodeMultiScale = await node.estimatePose(file, { flipTest: false, scales });
    assert.deepEqual(fromPixels.box, expected.box);
    assert.deepEqual(fromPixels.imageSize, { width: 201, height: 161 });
    for (const [got, want] of [[fromPixels, expected], [fromTensor, nodeBoxed], [multiScale, nodeMultiScale]] as const) {
      got.keypoints.forEach((k, i) => {
        const e = want.keypoints[i];
        assert.equal(k.name, e.name);
        // the same folded network through tf.layers: the peaks land on the same heatmap cells, and the Taylor step,
        // continuous in the heatmap's values, moves them by the folding's rounding only (~1e-3 px here; a cell is ~6 px)
        assert.ok(Math.abs(k.x - e.x) < 1e-2 && Math.abs(k.y - e.y) < 1e-2, `${k.name}: (${k.x}, ${k.y}) vs (${e.x}, ${e.y})`);
        assert.ok(Math.abs(k.score - e.score) < 1e-3, `${k.name} score ${k.score} vs ${e.score}`);
      });
    }
  } finally {
    browser.dispose();
    node.dispose();
  }
});

test('browser estimator with the person detector: the people the Node estimator finds, same boxes, scores and keypoints', async () => {
  await useCpu();
  // The real detector; a small random pose network (on the cpu backend the bundled one would take minutes), all its
  // candidates kept (minPersonScore 0) so that there are people to compare.
  const dir = mkdtempSync(join(tmpdir(), 'hg-browser-pose-'));
  const pose = HourglassModel.create({ stacks: 1, features: 8, modules: 1, joints: 14, inputSize: 64, depth: 1 }, 4);
  await exportTfjs(pose, dir, { meta: { skeleton: 'lsp14' } });
  const detectorDir = mkdtempSync(join(tmpdir(), 'hg-browser-det-'));
  const { model: det, checkpoint } = loadModel(PERSON_DETECTOR.path);
  await exportTfjs(det, detectorDir, { meta: checkpoint.meta, precision: 'float16' });
  det.dispose();
  const serve = folderFetch(dir);
  const serveDetector = folderFetch(detectorDir);
  const fetchBoth = ((input: RequestInfo | URL) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    return url.includes('/detector/') ? serveDetector(url.replace('/detector/', '/')) : serve(input);
  }) as typeof fetch;
  const browser = await loadEstimator(`${BASE}model.json`, { fetch: fetchBoth, detector: `${BASE}detector/model.json` });
  // The Node estimator with the same weights (the bundled detector's are float16 already).
  const node = await createEstimator({ model: pose, backend: 'cpu', skeleton: LSP14 });
  try {
    assert.equal(browser.findsPeople, true);
    const file = join(SAMPLES_DIR, 'lspet-6132.jpg');
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    const pixels = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
    const options = { flipTest: false, minPersonScore: 0, maxPeople: 3 };
    const got = await browser.estimatePose(pixels, options);
    const want = await node.estimatePose(file, options);
    assert.ok(want.people.length >= 1, 'the Node estimator finds candidates');
    assert.equal(got.people.length, want.people.length);
    got.people.forEach((p, i) => {
      const e = want.people[i];
      // Within half a pixel: the boxes are decoded keypoints' boxes, and tf.layers and the folded network round differently.
      for (const key of ['x', 'y', 'width', 'height'] as const) assert.ok(Math.abs(p.box[key] - e.box[key]) < 0.5, `person ${i} box.${key}: ${p.box[key]} vs ${e.box[key]}`);
      assert.ok(Math.abs(p.score - e.score) < 5e-3, `person ${i} score ${p.score} vs ${e.score}`);
      p.keypoints.forEach((k, j) => assert.ok(Math.abs(k.x - e.keypoints[j].x) < 0.5 && Math.abs(k.y - e.keypoints[j].y) < 0.5, `person ${i} ${k.name}`));
    });
    await assert.rejects(loadEstimator(`${BASE}model.json`, { fetch: fetchBoth, detector: `${BASE}model.json` }),
      (e: Error) => e instanceof FileFormatError && /not a person detector/.test(e.message));
  } finally {
    browser.dispose();
    node.dispose();
    pose.dispose();
  }
});

test('browser estimator: bad hourglass.json, a model that does not match it, bad images and use after dispose fail clearly', async () => {
  await useCpu();
  const dir = await exportTiny();
  const info = JSON.parse(readFileSync(join(dir, INFO_FILE), 'utf8')) as Record<string, unknown>;
  const config = info['config'] as Record<string, unknown>;

  // hourglass.json missing from the folder: named, with how to make it
  const missing = mkdtempSync(join(tmpdir(), 'hg-browser-missing-'));
  for (const f of ['model.json', 'weights.bin']) writeFileSync(join(missing, f), readFileSync(join(dir, f)));
  await assert.rejects(loadEstimator(`${BASE}model.json`, { fetch: folderFetch(missing) }),
    (e: Error) => e instanceof FileFormatError && /hourglass\.json/.test(e.message) && /HTTP 404/.test(e.message) && /export --format tfjs/.test(e.message));

  await assert.rejects(loadEstimator('models/model.json', { fetch: folderFetch(dir) }),
    (e: Error) => e instanceof InvalidArgumentError && /model URL 'models\/model\.json' is not a valid URL \(outside a page it must be absolute\)/.test(e.message));

  const bad = (value: unknown, pattern: RegExp) => assert.throws(() => parseModelInfo(value, INFO_FILE),
    (e: Error) => e instanceof FileFormatError && pattern.test(e.message), `expected ${pattern}`);
  bad([], /not a JSON object/);
  bad({ ...info, format: 'layers-model' }, /format is "layers-model"/);
  bad({ ...info, config: { ...config, inputSize: 0 } }, /config\.inputSize must be a positive integer/);
  bad({ ...info, config: { ...config, inputSize: 66 } }, /not a multiple of 4/);
  bad({ ...info, skeleton: { joints: ['a', 'b'] } }, /skeleton has 2 joints, config\.joints is 14/);
  bad({ ...info, skeleton: { joints: [1, 2] } }, /joint names/);
  assert.equal(parseModelInfo({ ...info, skeleton: undefined }, INFO_FILE).skeleton, LSP14); // none stored: the built-in one

  // hourglass.json that does not describe the weights beside it
  const layersJson = readFileSync(join(dir, 'model.json'));
  const wrong = mkdtempSync(join(tmpdir(), 'hg-browser-wrong-'));
  writeFileSync(join(wrong, 'model.json'), layersJson);
  writeFileSync(join(wrong, 'weights.bin'), readFileSync(join(dir, 'weights.bin')));
  writeFileSync(join(wrong, INFO_FILE), JSON.stringify({ ...info, config: { ...config, inputSize: 128 } }));
  await assert.rejects(loadEstimator(`${BASE}model.json`, { fetch: folderFetch(wrong) }),
    (e: Error) => e instanceof FileFormatError && /input is \[null,64,64,3\], hourglass\.json says \[null, 128, 128, 3\]/.test(e.message));

  let estimator: BrowserEstimator | null = await loadEstimator(`${BASE}model.json`, { fetch: folderFetch(dir) });
  assert.equal(estimator.info.inputSize, 64);
  const rejects = (image: unknown, pattern: RegExp) => assert.rejects(estimator!.estimatePose(image as never),
    (e: Error) => e instanceof InvalidArgumentError && pattern.test(e.message), `expected ${pattern}`);
  await rejects(42, /raw pixels \{ data, width, height \}, an ImageData, a tensor/);
  await rejects({ data: new Uint8ClampedArray(10), width: 2, height: 2 }, /10 values for 2x2 pixels/);
  await rejects(tf.zeros([4, 4]), /\[height, width, channels\]/);
  await assert.rejects(estimator.estimatePose({ data: new Uint8Array(64 * 48 * 3), width: 64, height: 48 }, { box: [100, 100, 5, 5] }),
    /lies outside the 64x48 image/);
  const pose = await estimator.estimatePose({ data: new Uint8Array(64 * 48), width: 64, height: 48 }); // grey
  assert.equal(pose.keypoints.length, 14);
  estimator.dispose();
  await rejects({ data: new Uint8Array(12), width: 2, height: 2 }, /disposed/);
  estimator = null;
});

test('the browser entry and the demo page bundle for the browser, without Node modules or the Node-only code', async () => {
  const esbuild = await import('esbuild');
  for (const entry of ['dist/src/browser.js', 'dist/web/demo.js']) {
    const result = await esbuild.build({
      entryPoints: [join(REPO, entry)], bundle: true, format: 'esm', platform: 'browser', write: false,
      metafile: true, logLevel: 'silent',
    });
    assert.equal(result.errors.length, 0, `${entry}: ${result.errors.map((e) => e.text).join('; ')}`);
    const inputs = Object.keys(result.metafile.inputs);
    const ours = inputs.filter((p) => p.includes('dist/src/')).map((p) => p.slice(p.indexOf('dist/src/') + 9));
    for (const nodeOnly of ['api/estimator.js', 'api/overlay.js', 'data/image.js', 'model/checkpoint.js', 'backend/select.js']) {
      assert.ok(!ours.includes(nodeOnly), `${entry} pulls in ${nodeOnly}`);
    }
    assert.ok(ours.includes('api/pose.js') && ours.includes('inference/person.js') && ours.includes('inference/crops.js'), `${entry} should share the pipeline: ${ours.join(', ')}`);
    assert.ok(!inputs.some((p) => /node_modules\/sharp\//.test(p)), `${entry} includes sharp`);
  }
});

test('scripts/web-demo.js builds the demo folder (page, bundle, model, wasm binaries, samples) and refuses unknown flags', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'hg-demo-')), 'site');
  const run = spawnSync(process.execPath, [join(REPO, 'scripts/web-demo.js'), '--build-only', '--out', out], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /built the demo in/);
  for (const f of ['index.html', 'demo.js', 'model/model.json', 'model/weights.bin', `model/${INFO_FILE}`, 'samples/index.json', 'samples/ATTRIBUTION.md']) {
    assert.ok(existsSync(join(out, f)), `${f} missing`);
  }
  assert.ok(readdirSync(join(out, 'wasm')).some((f) => f.endsWith('-simd.wasm')), 'wasm binaries missing');
  const samples = JSON.parse(readFileSync(join(out, 'samples/index.json'), 'utf8')) as string[];
  assert.ok(samples.length >= 4 && samples.every((s) => existsSync(join(out, 'samples', s))));
  assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /<script type="module" src="demo.js">/);

  const badFlag = spawnSync(process.execPath, [join(REPO, 'scripts/web-demo.js'), '--build-only', '--frobnicate'], { encoding: 'utf8' });
  assert.equal(badFlag.status, 2);
  assert.match(badFlag.stderr, /frobnicate/);
  const badPort = spawnSync(process.execPath, [join(REPO, 'scripts/web-demo.js'), '--port', 'x'], { encoding: 'utf8' });
  assert.equal(badPort.status, 2);
  assert.match(badPort.stderr, /--port must be an integer/);
});
