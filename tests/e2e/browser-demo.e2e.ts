// End-to-end test of the browser demo in a real browser (`npm run test:e2e`; Debian's chromium driven by
// puppeteer-core, no browser download): scripts/web-demo.js builds and serves the page; a sample image runs on each
// backend the page offers and its keypoints match `hourglass predict` on the same image within 2 px; the page's own
// errors (not an image, a missing file, a denied camera) are shown in words; no request fails (favicon included).
// A screenshot of each run is kept (paths printed); E2E_ARTIFACTS names their folder (default dist/e2e).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { REPO } from '../data/paths.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARTIFACTS = process.env['E2E_ARTIFACTS'] ?? join(REPO, 'dist', 'e2e');
const SAMPLE = 'lspet-6613.jpg';
/** A model run on the slowest backend (cpu, or webgl on a software rasteriser) takes seconds; its first, minutes. */
const RUN_TIMEOUT_MS = 300_000;

interface Keypoint { name: string; x: number; y: number; score: number }
interface PageResult { state: string; status: string; backend: string; keypoints: Keypoint[] }

const work = mkdtempSync(join(tmpdir(), 'hg-e2e-'));
let server: ChildProcess | null = null;
let browser: Browser | null = null;
after(async () => {
  await browser?.close();
  server?.kill();
  rmSync(work, { recursive: true, force: true });
});

/** Builds the demo into a temporary folder and serves it on a free port; resolves to its URL. */
function startDemo(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, 'scripts', 'web-demo.js'), '--port', '0', '--out', join(work, 'demo')], { cwd: REPO });
    server = child;
    let output = '';
    const timer = setTimeout(() => reject(new Error(`the demo server did not start in 180 s:\n${output}`)), 180_000);
    const read = (chunk: Buffer): void => {
      output += chunk.toString();
      const url = /serving the demo at (http:\/\/\S+\/)/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => reject(new Error(`the demo server exited (${code}):\n${output}`)));
  });
}

/** `hourglass predict` on the sample: the reference keypoints. */
function predictReference(): Keypoint[] {
  const out = join(work, 'predict');
  const run = spawnSync(process.execPath, [join(REPO, 'bin', 'hourglass.js'), 'predict', join(REPO, 'samples', SAMPLE), '--out', out, '--no-overlay'],
    { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return (JSON.parse(readFileSync(join(out, SAMPLE.replace(/\.jpg$/, '.json')), 'utf8')) as { keypoints: Keypoint[] }).keypoints;
}

async function launch(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: join(work, 'profile'), // a fresh profile
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream', // a synthetic camera, so that a denied permission is what fails
      '--enable-unsafe-webgpu'], // WebGPU on SwiftShader where there is no GPU: the webgpu backend is checked too
  });
}

/** Requests that failed (status >= 400 or no response), as 'STATUS URL'. */
function watchFailures(page: Page, failures: string[]): void {
  page.on('response', (r) => {
    if (r.status() >= 400) failures.push(`${r.status()} ${r.url()}`);
  });
  page.on('requestfailed', (r) => failures.push(`failed ${r.url()} (${r.failure()?.errorText})`));
  page.on('pageerror', (err) => failures.push(`page error: ${err instanceof Error ? err.message : String(err)}`));
}

/** Waits until the page has finished (body[data-state] done or error), then reads its status line and table. */
async function settle(page: Page, states: readonly string[] = ['done', 'error']): Promise<PageResult> {
  await page.waitForFunction((wanted: readonly string[]) => wanted.includes(document.body.dataset['state'] ?? ''), { timeout: RUN_TIMEOUT_MS, polling: 200 }, states);
  return page.evaluate(() => ({
    state: document.body.dataset['state'] ?? '',
    status: document.getElementById('status')?.textContent ?? '',
    backend: (document.getElementById('backend') as HTMLSelectElement).value,
    keypoints: Array.from(document.querySelectorAll('#table tr')).slice(1).map((row) => {
      const cells = Array.from(row.querySelectorAll('td'), (td) => td.textContent?.trim() ?? '');
      return { name: cells[0], x: Number(cells[1]), y: Number(cells[2]), score: Number(cells[3]) };
    }),
  }));
}

test('the demo page in Chromium: every backend it offers matches hourglass predict; its errors are in words', async () => {
  const [url, reference] = await Promise.all([startDemo(), Promise.resolve().then(predictReference)]);
  browser = await launch();
  mkdirSync(ARTIFACTS, { recursive: true });
  const failures: string[] = [];
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 900 });
  watchFailures(page, failures);

  // The default backend, and what the page offers.
  await page.goto(url);
  await settle(page, ['ready', 'error']);
  const menu = await page.$$eval('#backend option', (options) => options.map((o) => ({ name: o.value, works: !o.disabled, note: o.title })));
  const defaultBackend = await page.$eval('#backend', (s) => (s as HTMLSelectElement).value);
  console.log(`backends in this browser: ${menu.map((b) => `${b.name} ${b.works ? 'works' : 'no'} (${b.note})`).join('; ')}; default ${defaultBackend}`);
  const offered = menu.filter((b) => b.works).map((b) => b.name);
  assert.ok(offered.includes('wasm') && offered.includes('cpu'), `wasm and cpu work in any browser: ${JSON.stringify(menu)}`);
  assert.ok(offered.includes(defaultBackend));

  const times: string[] = [];
  for (const backend of offered) {
    await page.goto(`${url}?image=samples/${SAMPLE}&backend=${backend}`);
    const result = await settle(page);
    assert.equal(result.state, 'done', `${backend}: ${result.status}`);
    assert.equal(result.backend, backend);
    const ms = /: \d+x\d+, (no person found|1 person|\d+ people \(table: the first\)), (\d+) ms on (\w+) with the flip test/.exec(result.status);
    assert.ok(ms && ms[3] === backend, `${backend}: status '${result.status}'`);
    assert.equal(ms[1], '1 person', `${backend}: the sample shows one person: '${result.status}'`);
    times.push(`${backend} ${ms[2]} ms`);
    assert.deepEqual(result.keypoints.map((k) => k.name), reference.map((k) => k.name));
    for (const [i, k] of result.keypoints.entries()) {
      const r = reference[i];
      const d = Math.hypot(k.x - r.x, k.y - r.y);
      assert.ok(d <= 2, `${backend}: ${k.name} at (${k.x}, ${k.y}), hourglass predict (${r.x}, ${r.y}): ${d.toFixed(2)} px apart`);
    }
    const shot = join(ARTIFACTS, `demo-${backend}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`${backend}: ${result.status} -> keypoints within 2 px of hourglass predict; screenshot ${shot}`);
  }
  console.log(`per image with the flip test (after a warm-up run): ${times.join(', ')}; the page's default: ${defaultBackend}`);

  // Its errors, in words.
  await page.goto(`${url}?image=samples/ATTRIBUTION.md`);
  let result = await settle(page);
  assert.equal(result.state, 'error');
  assert.match(result.status, /^ATTRIBUTION\.md: not an image this browser can decode$/);
  await page.goto(`${url}?image=samples/absent.jpg`);
  result = await settle(page);
  assert.equal(result.state, 'error');
  assert.match(result.status, /^absent\.jpg: file not found \(HTTP 404\)$/);
  const expected404 = failures.filter((f) => f.endsWith('/samples/absent.jpg'));
  assert.equal(expected404.length, 1, failures.join('\n'));

  await browser.setPermission(new URL(url).origin, { permission: { name: 'camera' }, state: 'denied' });
  await page.goto(url);
  await settle(page, ['ready', 'error']);
  await page.click('#camera');
  result = await settle(page, ['error']);
  assert.match(result.status, /^camera: permission denied \(allow the camera/);
  const shot = join(ARTIFACTS, 'demo-camera-denied.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`camera denied: '${result.status}'; screenshot ${shot}`);
  // Allowed, the (synthetic) camera's frames are run.
  await browser.setPermission(new URL(url).origin, { permission: { name: 'camera' }, state: 'granted' });
  await page.goto(url);
  await settle(page, ['ready', 'error']);
  await page.click('#camera');
  result = await settle(page);
  assert.match(result.status, /^camera: (no person found|1 person|\d+ people \(table: the first\)), [\d.]+ frames\/s on \w+$/);
  // Chromium's fake camera shows a test pattern, not a person: the table is empty when no one is found.
  assert.equal(result.keypoints.length, result.status.includes('no person found') ? 0 : reference.length);
  await page.click('#camera');
  console.log(`camera allowed: '${result.status}'`);

  // Nothing else failed to load: no favicon 404, no page error.
  assert.deepEqual(failures.filter((f) => !expected404.includes(f)), []);
});
