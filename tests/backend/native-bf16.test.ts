// bf16 on the native backend (issue 16): convolutions in bf16 with fp32 accumulation against the same kernels in fp32
// (forward, backward-data, backward-weights, a whole-model gradient), and the refusal where oneDNN has no native bf16.
// On a CPU without bf16 instructions the kernel tests become checks of that refusal, and their names say so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tf } from '../../src/tf.js';
import type { Tensor, Tensor1D, Tensor2D, Tensor4D } from '../../src/tf.js';
import { HourglassModel } from '../../src/model/model.js';
import { heatmapLoss } from '../../src/train/loss.js';
import { usePrecision } from '../../src/backend/precision.js';
import { BackendUnavailableError } from '../../src/errors.js';
import { SKIP_NATIVE, randomTensor, requireNative, weightedGrads } from './native-parity.js';

/**
 * bf16 keeps 8 significant bits (relative rounding 2^-9 = 2e-3 per input); sums of hundreds of such products in fp32
 * measured 2-3e-3 of the largest output. The lower bound proves the bf16 path ran: fp32 repeats itself to ~1e-7.
 */
const KERNEL_RTOL = 1e-2;
const BF16_MIN_ERROR = 1e-5;

const support = SKIP_NATIVE ? null : (await import('../../src/backend/native/precision.js')).bf16Support();
const HAS_BF16 = support?.native === true;
const REFUSED = `is refused on this CPU with a clear error (oneDNN dispatches ${support?.isa ?? '?'}, no native bf16)`;

/** Asserts that asking for bf16 here throws the one-line error naming the missing instructions. */
async function assertRefused(): Promise<void> {
  await assert.rejects(usePrecision('bf16', 'native'), (err: Error) => {
    assert.ok(err instanceof BackendUnavailableError, `${err.constructor.name}: ${err.message}`);
    assert.match(err.message, /^precision bf16 needs native bf16 instructions \(avx512_bf16 or amx_bf16\).*oneDNN dispatches \S+/);
    return true;
  });
}

/** `fn`'s outputs on native in fp32 and then in bf16. */
async function bothPrecisions(fn: () => Tensor[]): Promise<{ fp32: Float32Array[]; bf16: Float32Array[] }> {
  await tf.setBackend('native');
  const run = async (p: 'fp32' | 'bf16') => {
    await usePrecision(p, 'native', 'all');
    return tf.tidy(() => fn().map((t) => Float32Array.from(t.dataSync())));
  };
  try {
    return { fp32: await run('fp32'), bf16: await run('bf16') };
  } finally {
    await usePrecision('fp32', 'native');
  }
}

/** Max |bf16 - fp32| of each output over its largest |fp32| value. */
function errors(r: { fp32: Float32Array[]; bf16: Float32Array[] }): number[] {
  return r.fp32.map((e, i) => {
    let diff = 0;
    let scale = 0;
    e.forEach((v, j) => {
      diff = Math.max(diff, Math.abs(r.bf16[i][j] - v));
      scale = Math.max(scale, Math.abs(v));
    });
    return scale === 0 ? diff : diff / scale;
  });
}

/** Every output within `rtol` of fp32, and each one visibly bf16 (fp32 repeats itself to ~1e-7). */
async function compare(what: string, fn: () => Tensor[]): Promise<void> {
  errors(await bothPrecisions(fn)).forEach((err, i) => {
    assert.ok(err <= KERNEL_RTOL, `${what}: output ${i} relative error ${err.toExponential(2)} > ${KERNEL_RTOL}`);
    assert.ok(err >= BF16_MIN_ERROR, `${what}: output ${i} equals fp32 to ${err.toExponential(2)}: bf16 did not run`);
  });
}

// A 3x3 on 32x32 maps, 1x1 layers with 32+ channels, the 7x7 stride-2 stem forward: all in bf16 ('all' layers;
// under 'measured' each pass keeps the faster precision, tested below).
const CASES = [
  { x: [2, 32, 32, 32], k: 3, out: 32, stride: 1, pad: 'same' as const },
  { x: [2, 32, 32, 64], k: 1, out: 32, stride: 1, pad: 'valid' as const },
  { x: [2, 16, 16, 32], k: 1, out: 64, stride: 1, pad: 'valid' as const },
];

test(HAS_BF16 ? 'bf16 convolution forward (with bias, and the stem) matches fp32 within 1e-2' : `bf16 convolution forward ${REFUSED}`, { skip: SKIP_NATIVE }, async () => {
  requireNative();
  if (!HAS_BF16) return assertRefused();
  for (const [i, c] of CASES.entries()) {
    await compare(`conv ${c.x.join('x')} k${c.k}`, () => {
      const x = randomTensor(c.x, 10 + i) as Tensor4D;
      const filter = randomTensor([c.k, c.k, c.x[3], c.out], 20 + i) as Tensor4D;
      const bias = randomTensor([c.out], 30 + i) as Tensor1D;
      return [tf.fused.conv2d({ x, filter, bias, strides: c.stride, pad: c.pad })];
    });
  }
  await compare('stem 7x7/2', () => [tf.conv2d(randomTensor([2, 64, 64, 3], 1) as Tensor4D, randomTensor([7, 7, 3, 32], 2) as Tensor4D, 2, 3)]);
});

test(HAS_BF16 ? 'bf16 convolution backward-data and backward-weights match fp32 within 1e-2' : `bf16 convolution backward passes ${REFUSED}`, { skip: SKIP_NATIVE }, async () => {
  requireNative();
  if (!HAS_BF16) return assertRefused();
  for (const [i, c] of CASES.entries()) {
    await compare(`conv grads ${c.x.join('x')} k${c.k}`, () => {
      const x = randomTensor(c.x, 40 + i);
      const w = randomTensor([c.k, c.k, c.x[3], c.out], 50 + i);
      return weightedGrads((a, b) => tf.conv2d(a as Tensor4D, b as Tensor4D, c.stride, c.pad), [x, w], 60 + i);
    });
  }
});

const MODEL = { stacks: 1, features: 32, modules: 1, joints: 3, inputSize: 64, depth: 2 };

/** x rounded to bf16 (nearest even) and back: the perturbation bf16 storage alone makes. */
function roundedToBf16(values: Float32Array): Float32Array {
  const out = Float32Array.from(values);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) bits[i] = ((bits[i] + 0x7fff + ((bits[i] >>> 16) & 1)) & 0xffff0000) >>> 0;
  return out;
}

/** Loss and every weight gradient of one training step of MODEL on images `x` (conv biases left out, see below). */
function modelGradients(x: Float32Array): Tensor[] {
  const model = HourglassModel.create(MODEL, 3);
  try {
    const vars = [...model.params.trainable()];
    const s = MODEL.inputSize;
    const images = tf.tensor4d(x, [4, s, s, 3]);
    const y = randomTensor([4, s / 4, s / 4, MODEL.joints], 5, -1, 1) as Tensor4D;
    const w = tf.ones([4, MODEL.joints]) as Tensor2D;
    const { value, grads } = tf.variableGrads(() => heatmapLoss(model.forward(images, { training: true }), y, w), vars.map(([, v]) => v));
    // Every convolution here feeds a batch norm, directly or through the residual stream, except the output layer:
    // their bias gradients are 0 up to rounding, and rounding noise is all they would compare.
    const kept = vars.filter(([name]) => !name.endsWith('.bias') || name.endsWith('head.out.bias'));
    return [value, ...kept.map(([, v]) => grads[v.name])];
  } finally {
    model.dispose();
  }
}

/** ||a - b|| / ||b|| over all gradients (outputs 1..). */
function gradientError(a: Float32Array[], b: Float32Array[]): number {
  let diff = 0;
  let norm = 0;
  for (let i = 1; i < b.length; i++) {
    b[i].forEach((v, j) => {
      diff += (a[i][j] - v) ** 2;
      norm += v * v;
    });
  }
  return Math.sqrt(diff / norm);
}

test(HAS_BF16 ? 'bf16 whole-model gradient of a small hourglass: loss within 1e-2 of fp32, gradients within 2x the error of bf16-rounded images' : `bf16 whole-model training ${REFUSED}`, { skip: SKIP_NATIVE }, async () => {
  requireNative();
  if (!HAS_BF16) return assertRefused();
  // A freshly initialised hourglass amplifies input perturbations a lot (measured: images perturbed by 1e-3 change the
  // fp32 gradient by ~30%), so bf16's ~4e-3 rounding cannot be held to a fixed gradient tolerance. The bar instead:
  // running every pass in bf16 may move the gradient at most twice as far as merely storing the images in bf16 does
  // in fp32 (measured ~1.5x); a wrong kernel (transposed, misplaced, f32 bits read as bf16) moves it much further.
  const x = randomTensor([4, MODEL.inputSize, MODEL.inputSize, 3], 4, 0, 1).dataSync() as Float32Array;
  const r = await bothPrecisions(() => modelGradients(x));
  await usePrecision('fp32', 'native');
  const rounded = tf.tidy(() => modelGradients(roundedToBf16(x)).map((t) => Float32Array.from(t.dataSync())));
  const lossErr = Math.abs(r.bf16[0][0] - r.fp32[0][0]) / Math.abs(r.fp32[0][0]);
  assert.ok(lossErr <= 1e-2, `loss: bf16 ${r.bf16[0][0]}, fp32 ${r.fp32[0][0]}`);
  const bf16Err = gradientError(r.bf16, r.fp32);
  const storageErr = gradientError(rounded, r.fp32);
  assert.ok(bf16Err >= BF16_MIN_ERROR, 'gradients equal fp32: bf16 did not run');
  assert.ok(bf16Err <= 2 * storageErr, `gradient error in bf16 ${bf16Err.toExponential(2)} > 2 x that of bf16-rounded images (${storageErr.toExponential(2)})`);
});

test(HAS_BF16 ? 'bf16, measured layers: a pass alternates bf16 and fp32 on its first calls, then keeps one of them' : `bf16 measured layers ${REFUSED}`, { skip: SKIP_NATIVE }, async () => {
  requireNative();
  if (!HAS_BF16) return assertRefused();
  await tf.setBackend('native');
  const { bf16LayerChoices } = await import('../../src/backend/native/precision.js');
  // A geometry no other test uses: its pass is measured from its first call here.
  const x = randomTensor([3, 24, 24, 48], 71) as Tensor4D;
  const filter = randomTensor([3, 3, 48, 48], 72) as Tensor4D;
  const run = () => tf.tidy(() => Float32Array.from(tf.conv2d(x, filter, 1, 'same').dataSync()));
  try {
    await usePrecision('fp32', 'native');
    const fp32 = run();
    await usePrecision('bf16', 'native', 'measured');
    const before = bf16LayerChoices().measured;
    const outs = Array.from({ length: 9 }, run);
    const same = (a: Float32Array, b: Float32Array) => a.every((v, i) => v === b[i]);
    // Trial calls: bf16, fp32, bf16, fp32, bf16, fp32 (PrecisionTrial in native/src/common.h).
    for (const i of [1, 3, 5]) assert.ok(same(outs[i], fp32), `trial call ${i} ran fp32`);
    for (const i of [0, 2, 4]) {
      const err = errors({ fp32: [fp32], bf16: [outs[i]] })[0];
      assert.ok(err >= BF16_MIN_ERROR && err <= KERNEL_RTOL, `trial call ${i} ran bf16 (relative error ${err.toExponential(2)})`);
    }
    assert.equal(bf16LayerChoices().measured, before + 1, 'the pass was decided after its trial calls');
    const kept = outs[6];
    assert.ok(same(kept, fp32) || same(kept, outs[0]), 'the kept precision is one of the two tried');
    for (const o of outs.slice(7)) assert.ok(same(o, kept), 'the choice stays');
  } finally {
    await usePrecision('fp32', 'native');
    x.dispose();
    filter.dispose();
  }
});

test('bf16 is refused with a clear error, and auto takes fp32, where oneDNN is capped below bf16 (DNNL_MAX_CPU_ISA=AVX2)', { skip: SKIP_NATIVE }, () => {
  requireNative();
  const script = `
    const { setNativePrecision } = await import(${JSON.stringify(new URL('../../src/backend/native/precision.js', import.meta.url).href)});
    const auto = setNativePrecision('auto');
    let refused = '';
    try { setNativePrecision('bf16'); } catch (err) { refused = err.constructor.name + ': ' + err.message; }
    console.log(JSON.stringify({ auto, refused }));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, DNNL_MAX_CPU_ISA: 'AVX2' }, encoding: 'utf8', cwd: fileURLToPath(new URL('.', import.meta.url)),
  });
  assert.equal(child.status, 0, child.stderr);
  const out = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as { auto: { precision: string; message: string }; refused: string };
  assert.equal(out.auto.precision, 'fp32');
  assert.match(out.auto.message, /^precision: fp32 \(auto: oneDNN dispatches (avx2|avx2_vnni|avx|sse41|other); CPU bf16 flags: /);
  assert.match(out.refused, /^BackendUnavailableError: precision bf16 needs native bf16 instructions \(avx512_bf16 or amx_bf16\) that oneDNN dispatches; not here/);
});

test('precision: unknown names and bf16 on a non-native backend are refused', async () => {
  const { parsePrecision } = await import('../../src/backend/precision.js');
  assert.throws(() => parsePrecision('fp16'), /unknown precision 'fp16' \(choose one of: fp32, bf16, auto\)/);
  await assert.rejects(usePrecision('bf16', 'cpu'), /precision bf16 runs only on the native backend \(this run uses cpu\)/);
  assert.deepEqual(await usePrecision('auto', 'wasm'), { precision: 'fp32', message: 'precision: fp32 (auto: bf16 needs the native backend, this is wasm)' });
});
