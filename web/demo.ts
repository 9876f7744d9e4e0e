// The browser demo: the bundled model, exported to TF.js by scripts/web-demo.js, run on a picked, dropped, sample
// or camera image through the package's browser entry only (src/browser.ts). Built and served by `npm run demo`.
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import {
  browserBackends, confidenceColour, fastestBrowserBackend, loadEstimator, overlaySvg, tf, type BrowserEstimator, type Pose,
} from '../src/browser.js';

// The wasm backend's binaries are served beside the page (scripts/web-demo.js copies them into wasm/).
setWasmPaths(new URL('wasm/', location.href).href);

const byId = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo page: no element #${id}`);
  return el as T;
};
const statusEl = byId<HTMLDivElement>('status');
const canvas = byId<HTMLCanvasElement>('canvas');
const overlay = byId<HTMLImageElement>('overlay');
const stage = byId<HTMLDivElement>('stage');
const hint = byId<HTMLSpanElement>('hint');
const table = byId<HTMLTableElement>('table');
const flip = byId<HTMLInputElement>('flip');
const multiScale = byId<HTMLInputElement>('multiscale');
/** The multi-scale test of the checkbox: five crop sizes, the list docs/evaluation.md measures. */
const SCALES = [0.8, 0.9, 1, 1.1, 1.2];
const backendSelect = byId<HTMLSelectElement>('backend');
const drop = byId<HTMLDivElement>('drop');
const video = byId<HTMLVideoElement>('video');
const cameraButton = byId<HTMLButtonElement>('camera');
const context = canvas.getContext('2d', { willReadFrequently: true });

let estimator: BrowserEstimator | null = null;
let shown: HTMLImageElement | null = null;
let camera: MediaStream | null = null;
let fileUrl: string | null = null; // the object URL of the picked file, kept while it is shown
let warmed: string | null = null; // the backend that has run the model once
let found = ''; // how many people the last estimate found

/** The status line; body[data-state] says the same to scripts (the end-to-end test): busy, ready, done or error. */
function say(text: string, state: 'busy' | 'ready' | 'done' | 'error' = 'ready'): void {
  statusEl.textContent = text;
  statusEl.className = state === 'error' ? 'error' : 'muted';
  document.body.dataset['state'] = state;
}

function fail(err: unknown): void {
  say(err instanceof Error ? err.message : String(err), 'error');
  console.error(err);
}

/** getUserMedia's failures (DOMException names) in words. */
function cameraError(err: unknown): Error {
  const name = err instanceof DOMException || err instanceof Error ? err.name : '';
  const words: Record<string, string> = {
    NotAllowedError: 'camera: permission denied (allow the camera for this page in the browser\'s site settings, then try again)',
    SecurityError: 'camera: permission denied (allow the camera for this page in the browser\'s site settings, then try again)',
    NotFoundError: 'camera: no camera found on this device',
    OverconstrainedError: 'camera: no camera found on this device that can give 640x480 video',
    NotReadableError: 'camera: the camera is in use by another program or could not be started',
    AbortError: 'camera: the camera could not be started',
  };
  return new Error(words[name] ?? `camera: could not be started (${err instanceof Error ? err.message : String(err)})`);
}

/** The first (best-scoring) person's keypoints. */
function showTable(pose: Pose): void {
  const rows = pose.keypoints.map((k) =>
    `<tr><td><span class="swatch" style="background:${confidenceColour(k.score)}"></span> ${k.name}</td>` +
    `<td>${k.x.toFixed(1)}</td><td>${k.y.toFixed(1)}</td><td>${k.score.toFixed(2)}</td></tr>`);
  table.innerHTML = `<tr><th>joint</th><th>x</th><th>y</th><th>score</th></tr>${rows.join('')}`;
}

/** Draws the frame, estimates the pose on its pixels and draws the skeleton over it. */
async function estimate(source: HTMLImageElement | HTMLVideoElement): Promise<number> {
  if (!estimator || !context) throw new Error('the model is not loaded yet');
  const width = source instanceof HTMLVideoElement ? source.videoWidth : source.naturalWidth;
  const height = source instanceof HTMLVideoElement ? source.videoHeight : source.naturalHeight;
  if (!width || !height) throw new Error('the image has no pixels (could it be decoded?)');
  canvas.width = width;
  canvas.height = height;
  // shown at least 360 px tall (LSP-like images are small), at most 600 px and the box's width
  const fit = Math.min((drop.clientWidth - 20) / width, Math.min(600, Math.max(360, height)) / height);
  canvas.style.width = `${Math.round(width * fit)}px`;
  canvas.style.height = `${Math.round(height * fit)}px`;
  context.drawImage(source, 0, 0);
  const pixels = context.getImageData(0, 0, width, height);
  const start = performance.now();
  const pose = await estimator.estimatePose(pixels, { flipTest: flip.checked, scales: multiScale.checked ? SCALES : [1] });
  const ms = performance.now() - start;
  overlay.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(overlaySvg(pose, estimator.skeleton))}`;
  stage.style.display = 'block';
  hint.style.display = 'none';
  showTable(pose);
  found = pose.people.length === 0 ? 'no person found' : pose.people.length === 1 ? '1 person' : `${pose.people.length} people (table: the first)`;
  return ms;
}

/** Fetches an image's bytes first, so a missing file is told apart from one that is not an image. */
async function loadImageElement(url: string, name: string): Promise<HTMLImageElement> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new Error(`${name}: could not be read (${err instanceof Error ? err.message : String(err)})`);
  }
  if (response.status === 404) throw new Error(`${name}: file not found (HTTP 404)`);
  if (!response.ok) throw new Error(`${name}: could not be loaded (HTTP ${response.status} ${response.statusText})`);
  const blobUrl = URL.createObjectURL(await response.blob());
  const img = new Image();
  img.src = blobUrl;
  img.title = name;
  try {
    await img.decode();
  } catch {
    throw new Error(`${name}: not an image this browser can decode`);
  } finally {
    URL.revokeObjectURL(blobUrl);
  }
  img.dataset['url'] = url;
  return img;
}

async function showImage(url: string, name: string): Promise<void> {
  stopCamera();
  say(`${name}: running the model…`, 'busy');
  const img = await loadImageElement(url, name);
  shown = img;
  let ms = await estimate(img);
  if (warmed !== estimator?.backend) {
    warmed = estimator?.backend ?? null; // the first run on a backend compiles its kernels: time a second one
    ms = await estimate(img);
  }
  say(`${name}: ${img.naturalWidth}x${img.naturalHeight}, ${found}, ${ms.toFixed(0)} ms on ${estimator?.backend}${flip.checked ? ' with the flip test' : ''}${multiScale.checked ? `, ${SCALES.length} crop sizes` : ''}`, 'done');
}

function showFile(file: File): void {
  if (fileUrl) URL.revokeObjectURL(fileUrl);
  fileUrl = URL.createObjectURL(file);
  showImage(fileUrl, file.name).catch(fail);
}

function stopCamera(): void {
  if (!camera) return;
  for (const track of camera.getTracks()) track.stop();
  camera = null;
  cameraButton.textContent = 'Use camera';
}

async function startCamera(): Promise<void> {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error('camera: this browser gives no camera access to this page (it needs https or localhost)');
  say('camera: asking for access…', 'busy');
  try {
    camera = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  } catch (err) {
    throw cameraError(err);
  }
  cameraButton.textContent = 'Stop camera';
  video.srcObject = camera;
  await video.play();
  const stream = camera;
  let frames = 0;
  let since = performance.now();
  while (camera === stream) {
    await estimate(video);
    frames++;
    const now = performance.now();
    if (now - since > 1000) {
      say(`camera: ${found}, ${(frames * 1000 / (now - since)).toFixed(1)} frames/s on ${estimator?.backend}`, 'done');
      frames = 0;
      since = now;
    }
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
}

async function loadSamples(): Promise<void> {
  const response = await fetch('samples/index.json');
  if (!response.ok) return;
  const names = (await response.json()) as string[];
  const box = byId<HTMLDivElement>('samples');
  for (const name of names) {
    const thumb = new Image();
    thumb.src = `samples/${name}`;
    thumb.title = name;
    thumb.alt = name;
    thumb.addEventListener('click', () => showImage(thumb.src, name).catch(fail));
    box.append(thumb);
  }
}

async function setBackend(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`TF.js backend ${name} is not available in this browser`);
  await tf.ready();
}

async function main(): Promise<void> {
  // ?backend=cpu, ?image=URL and ?multiscale=1 pick the backend, an image to start with and the multi-scale test
  // (links, and the headless smoke check).
  const params = new URLSearchParams(location.search);
  multiScale.checked = params.get('multiscale') === '1';
  // Every backend is listed; those that do not start here are greyed out with the reason. The default is the
  // fastest that works (src/backend/browser.ts); ?backend=NAME asks for another.
  say('Finding the backends this browser can run…', 'busy');
  const backends = await browserBackends();
  const fastest = fastestBrowserBackend(backends);
  if (!fastest) throw new Error(`no TF.js backend starts in this browser (${backends.map((b) => `${b.name}: ${b.note}`).join('; ')})`);
  backendSelect.replaceChildren(...backends.map((b) => {
    const option = new Option(`${b.name}${b.works ? (b.emulated ? ' (software-emulated)' : '') : ' (not available)'}`, b.name);
    option.disabled = !b.works;
    option.title = b.note;
    return option;
  }));
  const wanted = backends.find((b) => b.name === params.get('backend'));
  if (wanted && !wanted.works) throw new Error(`backend ${wanted.name} is not available in this browser: ${wanted.note}`);
  backendSelect.value = (wanted ?? fastest).name;
  await setBackend(backendSelect.value);
  estimator = await loadEstimator(new URL('model/model.json', location.href).href, { detector: new URL('detector/model.json', location.href).href });
  const { info } = estimator;
  say(`model: ${info.skeleton.id}, ${info.stacks} stack${info.stacks === 1 ? '' : 's'}, ${info.features} features, ` +
    `${info.inputSize} px input; backend ${estimator.backend}. Pick an image.`);
  await loadSamples();
  const first = params.get('image');
  if (first) await showImage(first, first.split('/').pop() ?? first);

  byId<HTMLInputElement>('file').addEventListener('change', (event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (file) showFile(file);
  });
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    const file = event.dataTransfer?.files[0];
    if (file) showFile(file);
  });
  for (const box of [flip, multiScale]) {
    box.addEventListener('change', () => {
      if (shown && !camera) showImage(shown.dataset['url'] ?? '', shown.title).catch(fail);
    });
  }
  backendSelect.addEventListener('change', () => {
    setBackend(backendSelect.value)
      .then(() => (shown && !camera ? showImage(shown.dataset['url'] ?? '', shown.title) : say(`backend ${estimator?.backend}`)))
      .catch(fail);
  });
  cameraButton.addEventListener('click', () => {
    if (camera) stopCamera();
    else startCamera().catch((err) => {
      stopCamera();
      fail(err);
    });
  });
}

main().catch(fail);
