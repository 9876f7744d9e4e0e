// The `webgpu` TensorFlow.js backend in Node (issue 22): Dawn's Node binding (the optional npm package `webgpu`)
// provides navigator.gpu; we ask it for an adapter and a device ourselves, say which device it is (a software one,
// SwiftShader or llvmpipe, is reported as such), watch the device for loss and uncaptured errors (out of memory), and
// register @tensorflow/tfjs-backend-webgpu's backend on that device, with our fixes (kernels.ts) and RMSprop (rmsprop.ts).
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { tf } from '../../tf.js';
import { GpuDeviceError } from '../../errors.js';
import { registerWebgpuFixes } from './kernels.js';
import { registerWebgpuRmsprop } from './rmsprop.js';

/** What the loaded device is: shown by `hourglass doctor`, `--backend webgpu` and `bench`. */
export interface WebgpuDeviceInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  /** Dawn's backend and adapter type when it tells them (e.g. 'vulkan', 'cpu'). */
  readonly adapterType: string;
  /** A software rasteriser (SwiftShader, llvmpipe, a CPU adapter, a fallback adapter): slower than native. */
  readonly software: boolean;
  /** One line: 'SwiftShader Device (Subzero) (software: vulkan cpu adapter)'. */
  readonly label: string;
}

// Minimal shapes of the WebGPU objects used here (the `webgpu` package is optional, so its types are not imported).
interface AdapterInfoLike {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly description?: string;
  readonly device?: string;
  readonly adapterType?: string;
  readonly backendType?: string;
  readonly isFallbackAdapter?: boolean;
}
interface DeviceLike {
  readonly lost: Promise<{ readonly reason?: string; readonly message?: string }>;
  readonly features: { has(name: string): boolean };
  destroy(): void;
  addEventListener?(type: 'uncapturederror', listener: (event: { readonly error?: UncapturedError }) => void): void;
  onuncapturederror?: ((event: { readonly error?: UncapturedError }) => void) | null;
}
interface AdapterLike {
  readonly info?: AdapterInfoLike;
  readonly isFallbackAdapter?: boolean;
  readonly features: { has(name: string): boolean };
  readonly limits: Record<string, number>;
  requestDevice(descriptor?: unknown): Promise<DeviceLike>;
}
interface GpuLike {
  requestAdapter(options?: unknown): Promise<AdapterLike | null>;
}
interface DawnModule {
  create(options: string[]): GpuLike;
  globals: Record<string, unknown>;
}

export const WEBGPU_BACKEND = 'webgpu';
const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|warp|basic render/i;

/** Where Debian's chromium puts SwiftShader's Vulkan driver (the software device the tests use). */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/local/lib'];

/** The Vulkan loader Dawn opens on Linux, or null when none is in the usual places nor on LD_LIBRARY_PATH. */
export function vulkanLoaderPath(env: NodeJS.ProcessEnv = process.env, libDirs: readonly string[] = LIB_DIRS): string | null {
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d !== ''), ...libDirs];
  for (const dir of dirs) {
    const path = `${dir}/libvulkan.so.1`;
    if (existsSync(path)) return path;
  }
  return null;
}

const SOFTWARE_HINT = `for a software device (tests): apt-get install chromium and VK_ICD_FILENAMES=${SWIFTSHADER_ICD}`;

/** Vulkan driver manifests (ICD .json files) the loader would read: those the environment names, else the usual folders. */
export function vulkanDriverFiles(env: NodeJS.ProcessEnv = process.env): { readonly named: string | null; readonly found: readonly string[] } {
  const jsonIn = (dir: string): string[] => {
    try {
      return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => `${dir}/${f}`);
    } catch {
      return [];
    }
  };
  const named = env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES || null;
  if (named) return { named, found: named.split(':').filter((p) => p !== '' && existsSync(p)).flatMap((p) => (p.endsWith('.json') ? [p] : jsonIn(p))) };
  const config = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':');
  const data = (env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':');
  const dirs = [...config, '/etc', ...data, `${env.HOME ?? homedir()}/.local/share`].map((d) => `${d}/vulkan/icd.d`);
  return { named: null, found: [...new Set(dirs)].flatMap(jsonIn) };
}

/**
 * On Linux, what keeps Dawn from finding any Vulkan device before it is asked (so that the answer is one line of
 * ours rather than Dawn's warnings): the loader library, or any driver manifest. null when both are there.
 */
export function vulkanProblem(env: NodeJS.ProcessEnv = process.env, libDirs: readonly string[] = LIB_DIRS): string | null {
  if (vulkanLoaderPath(env, libDirs) === null) {
    return 'no WebGPU adapter: the Vulkan loader libvulkan.so.1 is missing (apt-get install libvulkan1), and a Vulkan driver for the GPU is needed';
  }
  const drivers = vulkanDriverFiles(env);
  if (drivers.named !== null && drivers.found.length === 0) {
    return `no WebGPU adapter: the Vulkan driver files named by VK_DRIVER_FILES/VK_ICD_FILENAMES (${drivers.named}) do not exist (give an existing .json; ${SOFTWARE_HINT})`;
  }
  if (drivers.found.length === 0) {
    return 'no WebGPU adapter: no Vulkan driver is installed (install the GPU\'s: the NVIDIA driver with its Vulkan part, or mesa-vulkan-drivers; ' +
      `${SOFTWARE_HINT})`;
  }
  return null;
}

/** The reason, in one line, that Dawn found no adapter although a loader and a driver are installed. */
export function noAdapterReason(platform: string = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (platform !== 'linux') return 'Dawn found no WebGPU adapter (update the GPU driver: WebGPU needs D3D12 on Windows, Metal on macOS)';
  const drivers = vulkanDriverFiles(env);
  return `Dawn found no WebGPU adapter: the Vulkan driver(s) ${drivers.found.join(', ')} offered no device (check that the GPU and its driver match; ${SOFTWARE_HINT})`;
}

export function describeAdapter(adapter: { readonly info?: AdapterInfoLike; readonly isFallbackAdapter?: boolean }): WebgpuDeviceInfo {
  const info = adapter.info ?? {};
  const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');
  const vendor = text(info.vendor);
  const architecture = text(info.architecture);
  const description = text(info.description) || text(info.device);
  const adapterType = [text(info.backendType), text(info.adapterType)].filter((s) => s !== '').join(' ');
  const fallback = adapter.isFallbackAdapter === true || info.isFallbackAdapter === true;
  const software = fallback || /\bcpu\b/i.test(text(info.adapterType)) || SOFTWARE.test(`${vendor} ${architecture} ${description}`);
  const name = [description, vendor && !description.toLowerCase().includes(vendor.toLowerCase()) ? `(${vendor})` : '', architecture]
    .filter((s) => s !== '').join(' ') || 'unnamed adapter';
  const kind = [software ? 'software' : 'hardware', adapterType, fallback ? 'fallback adapter' : ''].filter((s) => s !== '').join(', ');
  return { vendor, architecture, description, adapterType, software, label: `${name} (${kind})` };
}

type UncapturedError = { readonly message?: string; readonly constructor?: { readonly name?: string } };

/** The device in use and its first failure: it stops training (GpuDeviceError), and later reads are not trusted. */
interface DeviceState {
  readonly device: DeviceLike;
  readonly info: WebgpuDeviceInfo;
  /** What the device's 'uncapturederror' listener runs (also the test hook's way in). */
  readonly onError: (event: { readonly error?: UncapturedError }) => void;
  failure: GpuDeviceError | null;
}

let state: DeviceState | null = null;
let loading: Promise<{ ok: true } | { ok: false; reason: string }> | null = null;

/** Classifies an uncaptured WebGPU error: out of memory stops the run with advice; other errors name themselves. */
export function uncapturedErrorMessage(error: UncapturedError | undefined): string {
  const kind = error?.constructor?.name ?? 'GPUError';
  const message = (error?.message ?? '').split('\n')[0].trim();
  if (kind === 'GPUOutOfMemoryError' || /out of memory|OutOfMemory/i.test(message)) {
    return `the GPU ran out of memory${message ? ` (${message})` : ''}: train with a smaller --batch`;
  }
  return `the GPU reported ${kind}${message ? `: ${message}` : ''}`;
}

function watch(device: DeviceLike, info: WebgpuDeviceInfo): DeviceState {
  const fail = (what: string) => {
    if (!s.failure) s.failure = new GpuDeviceError(`WebGPU device ${info.label}: ${what}`);
  };
  const s: DeviceState = { device, info, failure: null, onError: (event) => fail(uncapturedErrorMessage(event.error)) };
  void device.lost.then((lost) => {
    const reason = lost.reason && lost.reason !== 'unknown' ? lost.reason : '';
    const message = (lost.message ?? '').split('\n')[0].trim();
    const why = [reason, message].filter((x) => x !== '').join(': ');
    fail(`device lost${why ? ` (${why})` : ''}`);
  });
  if (typeof device.addEventListener === 'function') device.addEventListener('uncapturederror', s.onError);
  else device.onuncapturederror = s.onError;
  return s;
}

async function load(): Promise<{ ok: true } | { ok: false; reason: string }> {
  let dawn: DawnModule;
  try {
    dawn = (await import('webgpu' as string)) as DawnModule;
  } catch (err) {
    const why = (err as Error).message.split('\n')[0];
    return { ok: false, reason: `the optional package webgpu (Dawn's Node binding) did not load (${why}); install it with npm install webgpu` };
  }
  const problem = process.platform === 'linux' ? vulkanProblem() : null;
  if (problem) return { ok: false, reason: problem };
  // tfjs-backend-webgpu registers a backend of its own on import when navigator.gpu exists: import it first.
  const backendModule = await import('@tensorflow/tfjs-backend-webgpu');
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  // HOURGLASS_DAWN_OPTIONS: Dawn's own options, ';'-separated (e.g. enable-dawn-features=allow_unsafe_apis for timestamp queries).
  const gpu = dawn.create((process.env.HOURGLASS_DAWN_OPTIONS ?? '').split(';').map((o) => o.trim()).filter((o) => o !== ''));
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { ok: false, reason: noAdapterReason() };
  const info = describeAdapter(adapter);
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
    requiredLimits: Object.fromEntries(['maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize',
      'maxBufferSize', 'maxComputeWorkgroupSizeX', 'maxComputeInvocationsPerWorkgroup'].map((k) => [k, limits[k]])),
  });
  // navigator.gpu is what the backend's constructor checks; Node >= 21 has a navigator of its own to extend.
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, writable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  state = watch(device, info);
  const { WebGPUBackend } = backendModule;
  registerWebgpuFixes(WEBGPU_BACKEND);
  registerWebgpuRmsprop();
  tf.registerBackend(WEBGPU_BACKEND, () => new WebGPUBackend(device as never, adapter.info as never), 0);
  return { ok: true };
}

/** Loads Dawn and registers the `webgpu` backend on its device, once per process; a failure says what is missing. */
export function loadWebgpuBackend(): Promise<{ ok: true } | { ok: false; reason: string }> {
  loading ??= load().catch((err: unknown) => ({ ok: false as const, reason: `WebGPU failed to start (${(err as Error).message.split('\n')[0]})` }));
  return loading;
}

/** The loaded device, or null before loadWebgpuBackend() succeeded. */
export function webgpuDeviceInfo(): WebgpuDeviceInfo | null {
  return state?.info ?? null;
}

/**
 * Throws the device's first failure (lost, out of memory, another uncaptured error) as a GpuDeviceError while webgpu
 * is the active backend; does nothing when the device is healthy, or another backend is active. Called after each training step and before each checkpoint
 * write: after a failure, values read back from the device cannot be trusted.
 */
export function checkWebgpuDevice(): void {
  if (state?.failure && tf.getBackend() === WEBGPU_BACKEND) throw state.failure;
}

/**
 * The device's failure behind `err` (an error a GPU operation threw, e.g. a read from a lost device), or null when
 * webgpu is not the active backend or its device is healthy. The device's loss event can arrive just after the failed read:
 * this waits for it up to `waitMs`.
 */
export async function webgpuFailure(err: unknown, waitMs = 500): Promise<GpuDeviceError | null> {
  if (err instanceof GpuDeviceError) return err;
  if (!state || tf.getBackend() !== WEBGPU_BACKEND) return null;
  const deadline = Date.now() + waitMs;
  while (!state.failure && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return state.failure;
}

/** Test hook: destroys the device as a driver reset would (its `lost` promise resolves with reason 'destroyed'). */
export function destroyWebgpuDeviceForTests(): void {
  state?.device.destroy();
}

/** Test hook: delivers an error to the device's 'uncapturederror' listener as Dawn would (e.g. a GPUOutOfMemoryError). */
export function raiseWebgpuErrorForTests(error: UncapturedError): void {
  state?.onError({ error });
}

/** Test hook: forgets a failure raised by raiseWebgpuErrorForTests on a device that still works. */
export function forgetWebgpuFailureForTests(): void {
  if (state) state.failure = null;
}
