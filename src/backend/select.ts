// The single place that picks the TensorFlow.js backend. 'auto' takes the fastest one present
// (native > tensorflow > wasm > cpu in Node; webgpu > webgl > wasm > cpu in a browser) and says which it took and why.
// In Node, webgpu (Dawn, src/backend/webgpu/dawn.ts) is used when asked for: auto does not start a GPU device to
// find out whether it would be faster (docs/gpu.md).
import { tf } from '../tf.js';
import { BackendUnavailableError, InvalidArgumentError } from '../errors.js';

export const BACKEND_NAMES = ['native', 'wasm', 'cpu', 'tensorflow', 'webgl', 'webgpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type BackendRequest = BackendName | 'auto';

export interface BackendChoice {
  readonly name: BackendName;
  /** One line for the user: what was taken and, for 'auto', what was passed over. */
  readonly message: string;
}

type Loader = () => Promise<{ ok: true } | { ok: false; reason: string }>;

const IS_NODE = typeof process !== 'undefined' && process.versions?.node !== undefined;

/** Loads a module by a computed specifier (optional dependencies that may be absent). */
async function importOptional(specifier: string): Promise<unknown> {
  return import(specifier);
}

const LOADERS: Record<BackendName, Loader> = {
  async native() {
    if (!IS_NODE) return { ok: false, reason: 'the native backend runs only in Node' };
    try {
      const mod = (await importOptional(new URL('./native/index.js', import.meta.url).href)) as { loadNativeBackend: Loader };
      return await mod.loadNativeBackend();
    } catch (err) {
      return { ok: false, reason: `native addon not available (${(err as Error).message.split('\n')[0]})` };
    }
  },
  async tensorflow() {
    if (!IS_NODE) return { ok: false, reason: 'the tensorflow backend runs only in Node' };
    try {
      await importOptional('@tensorflow/tfjs-node');
      return { ok: true };
    } catch {
      return { ok: false, reason: '@tensorflow/tfjs-node is not installed (npm install @tensorflow/tfjs-node)' };
    }
  },
  async wasm() {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      (await import('./wasm-fixes.js')).registerWasmFixes(); // kernels training needs that wasm lacks
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: `wasm backend failed to load (${(err as Error).message})` };
    }
  },
  async cpu() {
    return { ok: true }; // registered by the tfjs import in src/tf.ts
  },
  async webgl() {
    if (IS_NODE) return { ok: false, reason: 'webgl needs a browser' };
    return { ok: true }; // registered by the umbrella package in browsers
  },
  async webgpu() {
    if (IS_NODE) {
      const mod = await import('./webgpu/dawn.js');
      return mod.loadWebgpuBackend();
    }
    try {
      await importOptional('@tensorflow/tfjs-backend-webgpu');
      return { ok: true };
    } catch {
      return { ok: false, reason: '@tensorflow/tfjs-backend-webgpu is not installed' };
    }
  },
};

const AUTO_ORDER: readonly BackendName[] = IS_NODE ? ['native', 'tensorflow', 'wasm', 'cpu'] : ['webgpu', 'webgl', 'wasm', 'cpu'];

export function parseBackendName(value: string): BackendRequest {
  if (value === 'auto' || (BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendRequest;
  throw new InvalidArgumentError(`unknown backend '${value}' (choose one of: auto, ${BACKEND_NAMES.join(', ')})`);
}

async function activate(name: BackendName): Promise<{ ok: true } | { ok: false; reason: string }> {
  const loaded = await LOADERS[name]();
  if (!loaded.ok) return loaded;
  try {
    if (!(await tf.setBackend(name))) return { ok: false, reason: `TensorFlow.js could not initialise the ${name} backend` };
    await tf.ready();
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `${name} failed to initialise (${(err as Error).message})` };
  }
}

let nativeNoticeShown = false;

/**
 * In Node, once per process, one line on stderr when 'auto' passes over `native`: why, and the command that builds
 * it (the runtime is where a failed or skipped install-time build shows; npm hides install scripts' output).
 * HOURGLASS_NO_NATIVE_NOTICE=1 silences it.
 */
function noticeNativeSkipped(reason: string, taken: BackendName): void {
  if (nativeNoticeShown || !IS_NODE || process.env.HOURGLASS_NO_NATIVE_NOTICE === '1') return;
  nativeNoticeShown = true;
  process.stderr.write(`hourglass: using ${taken}, not the faster native backend: ${reason}\n`);
}

export interface BackendProbe {
  readonly name: BackendName;
  readonly ok: boolean;
  /** Why it cannot be used ('' when it can). */
  readonly reason: string;
  /** What it runs on, when that is worth saying (webgpu: the device, and whether it is a software one). */
  readonly note?: string;
}

/** The device webgpu runs on in Node, once loaded (null elsewhere). */
async function webgpuDevice(name: BackendName): Promise<import('./webgpu/dawn.js').WebgpuDeviceInfo | null> {
  if (name !== 'webgpu' || !IS_NODE) return null;
  const mod = await import('./webgpu/dawn.js');
  return mod.webgpuDeviceInfo();
}

/** What `hourglass doctor` adds for a loaded backend: the device webgpu runs on and why auto passes it over. */
async function backendNote(name: BackendName): Promise<string> {
  const info = await webgpuDevice(name);
  if (!info) return '';
  return `${info.label}; ${info.software ? 'a software device, slower than native: ' : ''}auto does not pick it (ask with --backend webgpu)`;
}

/**
 * Tries every backend of this environment (Node or browser) in the 'auto' order, the fastest first, and says which
 * load and why the others do not (`hourglass doctor`). The active backend is left as the first that works.
 */
export async function probeBackends(): Promise<BackendProbe[]> {
  const probes: BackendProbe[] = [];
  for (const name of [...AUTO_ORDER, ...BACKEND_NAMES.filter((n) => !AUTO_ORDER.includes(n))]) {
    const result = await activate(name);
    const note = result.ok ? await backendNote(name) : '';
    probes.push({ name, ok: result.ok, reason: result.ok ? '' : result.reason, ...(note ? { note } : {}) });
  }
  const first = probes.find((p) => p.ok);
  if (first) await activate(first.name);
  return probes;
}

/** Makes `request` the active backend. An explicit name that cannot be used is an error; 'auto' falls back. */
export async function useBackend(request: BackendRequest = 'auto'): Promise<BackendChoice> {
  if (request !== 'auto') {
    const result = await activate(request);
    if (!result.ok) throw new BackendUnavailableError(`backend '${request}' is not available: ${result.reason}`);
    const gpu = await webgpuDevice(request);
    const on = gpu ? ` on ${gpu.label}${gpu.software ? ': a software device, far slower than a GPU (and than native)' : ''}` : '';
    return { name: request, message: `backend: ${request}${on}` };
  }
  const skipped: string[] = [];
  for (const name of AUTO_ORDER) {
    const result = await activate(name);
    if (result.ok) {
      const native = skipped.find((s) => s.startsWith('native: '));
      if (native) noticeNativeSkipped(native.slice('native: '.length), name);
      const why = skipped.length ? ` (skipped ${skipped.join('; ')})` : '';
      return { name, message: `backend: ${name}, the fastest available${why}` };
    }
    skipped.push(`${name}: ${result.reason}`);
  }
  throw new BackendUnavailableError(`no backend could be initialised: ${skipped.join('; ')}`);
}
