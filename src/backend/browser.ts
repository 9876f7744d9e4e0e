// The TF.js backends a web page can use, each with whether it works in this browser and why not, fastest first:
// webgpu (a hardware adapter), webgl (a GPU, not a software rasteriser), wasm, cpu; a software-emulated GPU backend
// works but is slower than wasm (SPEED_ORDER below). Browser-only (no Node module).
import '@tensorflow/tfjs-backend-webgpu'; // registers 'webgpu' where navigator.gpu exists (wasm: the page imports it)
import { tf } from '../tf.js';

export interface BrowserBackend {
  readonly name: 'webgpu' | 'webgl' | 'wasm' | 'cpu';
  /** Whether tf.setBackend(name) succeeded here. */
  readonly works: boolean;
  /** true for a GPU backend running on a software rasteriser (SwiftShader, llvmpipe): slower than wasm. */
  readonly emulated: boolean;
  /** Why it does not work, or what it runs on (e.g. the WebGL renderer). */
  readonly note: string;
}

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|basic render/i;

interface GpuAdapterLike {
  readonly isFallbackAdapter?: boolean;
  readonly info?: { readonly vendor?: string; readonly architecture?: string; readonly description?: string };
}

async function webgpuAdapter(): Promise<GpuAdapterLike | null | 'absent'> {
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } } | undefined)?.gpu;
  if (!gpu) return 'absent';
  try {
    return await gpu.requestAdapter();
  } catch {
    return null;
  }
}

function webglRenderer(): string {
  try {
    const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
    if (!gl) return '';
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
  } catch {
    return '';
  }
}

async function tryBackend(name: BrowserBackend['name']): Promise<string | null> {
  try {
    if (!(await tf.setBackend(name))) return `TF.js could not start ${name}`;
    await tf.ready();
    return null;
  } catch (err) {
    return `${name} failed to start (${err instanceof Error ? err.message : String(err)})`;
  }
}

/** Tries each backend in turn (this leaves the last one tried active; call tf.setBackend afterwards). */
export async function browserBackends(): Promise<BrowserBackend[]> {
  const found: BrowserBackend[] = [];
  const adapter = await webgpuAdapter();
  if (adapter === 'absent' || adapter === null) {
    found.push({ name: 'webgpu', works: false, emulated: false, note: adapter === null ? 'this browser offers no WebGPU adapter' : 'this browser has no WebGPU' });
  } else {
    const failed = await tryBackend('webgpu');
    const label = [adapter.info?.vendor, adapter.info?.architecture, adapter.info?.description].filter(Boolean).join(' ');
    const emulated = adapter.isFallbackAdapter === true || SOFTWARE_RENDERER.test(label);
    found.push({ name: 'webgpu', works: failed === null, emulated, note: failed ?? (label || 'WebGPU adapter') });
  }
  const renderer = webglRenderer();
  const webglFailed = renderer ? await tryBackend('webgl') : 'this browser has no WebGL';
  found.push({ name: 'webgl', works: webglFailed === null, emulated: SOFTWARE_RENDERER.test(renderer), note: webglFailed ?? renderer });
  for (const name of ['wasm', 'cpu'] as const) {
    const failed = await tryBackend(name);
    found.push({ name, works: failed === null, emulated: false, note: failed ?? (name === 'wasm' ? 'WebAssembly on the CPU' : 'plain JavaScript') });
  }
  return found;
}

/**
 * Speed order, fastest first, as measured in headless Chromium without a GPU (docs/browser.md: wasm 0.3-0.8 s,
 * webgl on SwiftShader 5-8 s, cpu 10-17 s, webgpu on SwiftShader 29-52 s per image with the flip test); a GPU
 * backend on real hardware comes first.
 */
const SPEED_ORDER: readonly string[] = ['webgpu', 'webgl', 'wasm', 'webgl emulated', 'cpu', 'webgpu emulated'];

/** The default: the fastest that works here, by SPEED_ORDER. */
export function fastestBrowserBackend(backends: readonly BrowserBackend[]): BrowserBackend | null {
  const rank = (b: BrowserBackend): number => SPEED_ORDER.indexOf(b.emulated ? `${b.name} emulated` : b.name);
  return backends.filter((b) => b.works).sort((x, y) => rank(x) - rank(y))[0] ?? null;
}
