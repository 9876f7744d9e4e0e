// Runs each measurement of `hourglass bench` in its own child process (so its peak RSS is its own): TF.js engines
// through tfjs-engine.js, the PyTorch and onnxruntime peers through the repository's bench/ folder. Any failure
// becomes one line of reason; the bench goes on with the other engines.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BENCH_CONFIG_NAMES, ENGINE_NAMES, type EngineResult } from './configs.js';

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Repository root, seen from dist/src/bench/. The peers are in the repository only, not in the published package. */
const ROOT = new URL('../../../', import.meta.url);
export const TFJS_CHILD = fileURLToPath(new URL('./tfjs-engine.js', import.meta.url));
export const TORCH_SCRIPT = fileURLToPath(new URL('bench/torch-hourglass.py', ROOT));
export const ONNX_CHILD = fileURLToPath(new URL('dist/bench/onnx-infer.js', ROOT));

/** The environment of the reference PyTorch figures. */
export const TORCH_ENV: Readonly<Record<string, string>> = { OPENBLAS_NUM_THREADS: '1', OMP_WAIT_POLICY: 'PASSIVE' };

/** Runs a command; resolves with its stdout, or a one-line reason (its last stderr line, signal, or timeout). */
export function runCommand(command: string, args: readonly string[], timeoutMs: number, env: Readonly<Record<string, string>> = {}): Promise<Outcome<string>> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: `cannot run ${command}: ${err.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) return resolve({ ok: false, reason: `timed out after ${Number((timeoutMs / 1000).toFixed(1))} s` });
      if (code === 0) return resolve({ ok: true, value: stdout });
      const last = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '').pop();
      const how = signal ? `killed by ${signal}${signal === 'SIGKILL' ? ' (out of memory?)' : ''}` : `exited with code ${code}`;
      resolve({ ok: false, reason: last ? `${last} (${how})` : how });
    });
  });
}

/** The last stdout line that is a JSON object. */
export function lastJsonLine(stdout: string): Outcome<unknown> {
  const line = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{')).pop();
  if (!line) return { ok: false, reason: 'printed no JSON result line' };
  try {
    return { ok: true, value: JSON.parse(line) as unknown };
  } catch (err) {
    return { ok: false, reason: `printed a result line that is not JSON (${(err as Error).message})` };
  }
}

function isNumberOrNull(v: unknown): v is number | null {
  return v === null || (typeof v === 'number' && Number.isFinite(v));
}

/** Checks a child's JSON against EngineResult; the reason names the first bad field. */
export function parseEngineResult(value: unknown): Outcome<EngineResult> {
  if (typeof value !== 'object' || value === null) return { ok: false, reason: 'result is not a JSON object' };
  const r = value as Record<string, unknown>;
  const bad = (field: string, expected: string) => ({ ok: false as const, reason: `result field '${field}' is ${JSON.stringify(r[field])}, expected ${expected}` });
  if (!(ENGINE_NAMES as readonly unknown[]).includes(r['engine'])) return bad('engine', ENGINE_NAMES.join(' | '));
  if (!(BENCH_CONFIG_NAMES as readonly unknown[]).includes(r['config'])) return bad('config', BENCH_CONFIG_NAMES.join(' | '));
  for (const field of ['inferMs', 'trainImgPerSec', 'trainBatch']) if (!isNumberOrNull(r[field])) return bad(field, 'a number or null');
  for (const field of ['peakRssMb', 'trainSteps', 'parameters']) if (typeof r[field] !== 'number') return bad(field, 'a number');
  if (typeof r['version'] !== 'string') return bad('version', 'a string');
  for (const field of ['device', 'profile']) if (r[field] !== undefined && typeof r[field] !== 'string') return bad(field, 'a string when present');
  return { ok: true, value: value as EngineResult };
}

/** Runs one measuring child and reads its EngineResult. */
export async function runEngineChild(command: string, args: readonly string[], timeoutMs: number, env: Readonly<Record<string, string>> = {}): Promise<Outcome<EngineResult>> {
  const run = await runCommand(command, args, timeoutMs, env);
  if (!run.ok) return run;
  const json = lastJsonLine(run.value);
  return json.ok ? parseEngineResult(json.value) : json;
}

/** A Python interpreter that imports torch: the one given, else the first of python3 on PATH and /usr/bin/python3. */
export async function findTorchPython(given?: string): Promise<Outcome<{ python: string; torch: string }>> {
  const candidates = given ? [given] : ['python3', '/usr/bin/python3'];
  const tried: string[] = [];
  for (const python of candidates) {
    const r = await runCommand(python, ['-c', 'import torch; print(torch.__version__)'], 120_000, TORCH_ENV);
    if (r.ok) return { ok: true, value: { python, torch: r.value.trim() } };
    tried.push(`${python}: ${r.reason.replace(/ \(exited with code \d+\)$/, '')}`);
  }
  return { ok: false, reason: `no Python with torch (${tried.join('; ')}); on Debian/Ubuntu: apt-get install -y python3-torch` };
}

/** Whether the repository's peer files are present (they are not in the published package). */
export function peerFiles(): Outcome<{ torchScript: string; onnxChild: string }> {
  if (!existsSync(TORCH_SCRIPT)) return { ok: false, reason: `${TORCH_SCRIPT} not found (the peers ship with the repository only)` };
  return { ok: true, value: { torchScript: TORCH_SCRIPT, onnxChild: ONNX_CHILD } };
}
