// Profiles training steps of a stacked hourglass on a backend: time per step and the kernels it spends it in.
// Usage: node dist/bench/profile-step.js [--backend native] [--precision fp32|bf16] [--stacks 1] [--features 128] [--size 128] [--batch 4] [--steps 5]
//        [--depth 4] [--warmup 1: untimed steps first; 7 lets the bf16 per-pass trial finish]
//        [--detail KERNEL] [--infer: batch-1 inference latency instead]
import { tf } from '../src/tf.js';
import type { Tensor, Tensor2D, Tensor4D } from '../src/tf.js';
import { HourglassModel } from '../src/model/model.js';
import { heatmapLoss } from '../src/train/loss.js';
import { Rmsprop } from '../src/train/rmsprop.js';
import { loadNativeBackend } from '../src/backend/native/index.js';
import { setNativePrecision } from '../src/backend/native/precision.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const backend = flag('backend', 'native');
const precision = flag('precision', 'fp32');
const stacks = Number(flag('stacks', '1'));
const features = Number(flag('features', '128'));
const size = Number(flag('size', '128'));
const batch = Number(flag('batch', '4'));
const steps = Number(flag('steps', '5'));
const depth = Number(flag('depth', '4'));
const warmup = Number(flag('warmup', '1'));
const joints = 16;
/** --detail KERNEL: also break that kernel's time down by input shapes. */
const detail = flag('detail', '');
const details = new Map<string, KernelTotal>();

/** Wraps every kernel of `backendName` with a timer; returns the table of totals. */
interface KernelTotal {
  ms: number;
  /** Process CPU time (all threads) spent in the kernel: less sensitive than ms to other load on the machine. */
  cpu: number;
  calls: number;
  /** Calls whose first output has at least 64 Ki elements. */
  large: number;
}

function instrument(backendName: string): Map<string, KernelTotal> {
  const totals = new Map<string, KernelTotal>();
  for (const k of tf.getKernelsForBackend(backendName)) {
    const inner = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, backendName);
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const out = inner(args);
        const c = process.cpuUsage(c0);
        const entry = totals.get(k.kernelName) ?? { ms: 0, cpu: 0, calls: 0, large: 0 };
        entry.ms += performance.now() - t0;
        entry.cpu += (c.user + c.system) / 1000;
        entry.calls += 1;
        const first = Array.isArray(out) ? out[0] : out;
        if (first && first.shape.reduce((a, b) => a * b, 1) >= 65536) entry.large += 1;
        if (k.kernelName === detail) {
          const key = Object.values(args.inputs).map((t) => `[${t?.shape.join(',')}]`).join(' ');
          const d = details.get(key) ?? { ms: 0, cpu: 0, calls: 0, large: 0 };
          d.ms += performance.now() - t0;
          d.cpu += (c.user + c.system) / 1000;
          d.calls += 1;
          details.set(key, d);
        }
        totals.set(k.kernelName, entry);
        return out;
      },
    });
  }
  return totals;
}

async function main(): Promise<void> {
  if (backend === 'native') {
    const r = await loadNativeBackend();
    if (!r.ok) throw new Error(r.reason);
    if (precision !== 'fp32' && precision !== 'bf16') throw new Error(`--precision must be fp32 or bf16, got '${precision}'`);
    console.log(setNativePrecision(precision).message);
  }
  if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend(backend);
  const model = HourglassModel.create({ stacks, features, inputSize: size, joints, depth }, 1);
  const vars = model.params.trainable();
  const varList = [...vars.values()];
  const nameOf = new Map([...vars].map(([name, v]) => [v.name, name]));
  const optimizer = new Rmsprop(vars);
  const hm = size / 4;
  const x = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 1) as Tensor4D;
  const y = tf.randomUniform([batch, hm, hm, joints], 0, 1, 'float32', 2) as Tensor4D;
  const w = tf.ones([batch, joints]) as Tensor2D;

  let cpuMs = 0;
  const step = (): number => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => heatmapLoss(model.forward(x, { training: true }), y, w), varList);
      const byName = new Map<string, Tensor>(Object.entries(grads).map(([k, g]) => [nameOf.get(k) as string, g]));
      optimizer.apply(byName, 2.5e-4);
      value.dataSync();
    });
    const c = process.cpuUsage(c0);
    cpuMs += (c.user + c.system) / 1000;
    return performance.now() - t0;
  };

  if (process.argv.includes('--infer')) {
    // Inference latency: predict() (batch norms folded) against the unfolded inference forward.
    const xi = x.slice(0, 1) as Tensor4D;
    const time = (f: () => Tensor): { ms: number; min: number } => {
      tf.dispose(f());
      const ts: number[] = [];
      for (let i = 0; i < steps; i++) {
        const t0 = performance.now();
        const out = f();
        out.dataSync();
        ts.push(performance.now() - t0);
        out.dispose();
      }
      return { ms: ts.reduce((a, b) => a + b, 0) / ts.length, min: Math.min(...ts) };
    };
    const plain = time(() => tf.tidy(() => model.forward(xi, { training: false }).at(-1) as Tensor));
    tf.dispose(model.predict(xi)); // fold and warm up before instrumenting
    const totals = instrument(backend);
    const fold = time(() => model.predict(xi));
    console.log(`${backend} infer b1: stacks=${stacks} f=${features} ${size}px: predict (folded) ${fold.ms.toFixed(1)} ms ` +
      `(min ${fold.min.toFixed(1)}), unfolded forward ${plain.ms.toFixed(1)} ms (min ${plain.min.toFixed(1)})`);
    for (const [name, t] of [...totals].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8)) {
      console.log(`  ${name.padEnd(32)} ${(t.ms / (steps + 1)).toFixed(2).padStart(8)} ms/predict ${String(t.calls / (steps + 1)).padStart(6)} calls`);
    }
    return;
  }
  for (let i = 0; i < warmup; i++) step(); // warm-up: primitive creation, first-touch of buffers, bf16 trials
  const totals = instrument(backend);
  cpuMs = 0;
  const times: number[] = [];
  for (let i = 0; i < steps; i++) times.push(step());
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const kernelMs = [...totals.values()].reduce((a, b) => a + b.ms, 0) / steps;
  console.log(`${backend}: stacks=${stacks} f=${features} depth=${depth} ${size}px batch=${batch}: ${mean.toFixed(1)} ms/step, ` +
    `min ${Math.min(...times).toFixed(1)} ms, ${((batch * 1000) / mean).toFixed(2)} img/s, cpu ${(cpuMs / steps).toFixed(0)} ms/step (steps: ${times.map((t) => t.toFixed(0)).join(' ')}); ` +
    `kernels ${kernelMs.toFixed(1)} ms/step, rest (engine, tape, JS) ${(mean - kernelMs).toFixed(1)} ms/step; ` +
    `rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
  const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25);
  for (const [name, t] of rows) {
    console.log(`  ${name.padEnd(32)} ${(t.ms / steps).toFixed(2).padStart(9)} ms/step ${(t.cpu / steps).toFixed(1).padStart(7)} cpu ms ${String(t.calls / steps).padStart(6)} calls/step` +
      ` (${t.large / steps} large)`);
  }
  for (const [key, t] of [...details].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) {
    console.log(`    ${detail} ${key}: ${(t.ms / steps).toFixed(2)} ms/step, ${(t.cpu / steps).toFixed(1)} cpu ms, ${t.calls / steps} calls/step`);
  }
}

await main();
