// What the native fused heatmap loss (native/src/loss.cc) saves per training step (issue 19): training steps of a
// bench configuration on `native`, alternating the fused loss (ops().heatmapLoss) and the portable TF.js composition
// (squaredDifference, mul, mean, addN run through native's ordinary kernels), in one process; medians and the saving
// as a fraction of a step.
// Usage: node dist/bench/loss-step.js [--config small|paper2] [--rounds 15]
import { tf } from '../src/tf.js';
import type { Tensor, Tensor2D, Tensor4D } from '../src/tf.js';
import type { Scalar } from '@tensorflow/tfjs-core';
import { HourglassModel } from '../src/model/model.js';
import { heatmapSize } from '../src/model/config.js';
import { ops } from '../src/model/ops.js';
import { Rmsprop } from '../src/train/rmsprop.js';
import { loadNativeBackend } from '../src/backend/native/index.js';
import { BENCH_CONFIGS, type BenchConfigName } from '../src/bench/configs.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

type Loss = (outputs: readonly Tensor4D[], targets: Tensor4D, weights: Tensor2D) => Scalar;

/** The portable composition, as src/model/ops.ts writes it for every backend without a fused kernel. */
const portableLoss: Loss = (outputs, targets, weights) => tf.tidy(() => {
  const [n, , , k] = targets.shape;
  const mask = tf.reshape(weights, [n, 1, 1, k]);
  const perStack = outputs.map((out) => tf.mean(tf.mul(tf.squaredDifference(out, targets), mask)));
  return (perStack.length === 1 ? perStack[0] : tf.addN(perStack)) as Scalar;
});

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const config = BENCH_CONFIGS[flag('config', 'small') as BenchConfigName];
  if (!config) throw new Error('--config: small or paper2');
  const rounds = Number(flag('rounds', '15'));
  const r = await loadNativeBackend();
  if (!r.ok) throw new Error(r.reason);
  await tf.setBackend('native');
  const model = HourglassModel.create(config.model, 1);
  const vars = model.params.trainable();
  const varList = [...vars.values()];
  const nameOf = new Map([...vars].map(([name, v]) => [v.name, name]));
  const optimizer = new Rmsprop(vars);
  const batch = config.trainBatch;
  const hm = heatmapSize(config.model);
  const joints = config.model.joints;
  const x = tf.randomUniform([batch, config.model.inputSize, config.model.inputSize, 3], 0, 1, 'float32', 1) as Tensor4D;
  const y = tf.randomUniform([batch, hm, hm, joints], 0, 1, 'float32', 2) as Tensor4D;
  const w = tf.ones([batch, joints]) as Tensor2D;

  const fused: Loss = (o, t, wt) => ops().heatmapLoss(o, t, wt);
  const step = (loss: Loss): { step: number; loss: number } => {
    const t0 = performance.now();
    let lossMs = 0;
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const outputs = model.forward(x, { training: true });
        const l0 = performance.now();
        const v = loss(outputs, y, w);
        lossMs += performance.now() - l0;
        return v;
      }, varList);
      const byName = new Map<string, Tensor>(Object.entries(grads).map(([k, g]) => [nameOf.get(k) as string, g]));
      optimizer.apply(byName, 2.5e-4);
      value.dataSync();
    });
    return { step: performance.now() - t0, loss: lossMs };
  };
  // The loss's own forward and backward, timed apart from a step (the backward as a gradient of the loss alone).
  const lossOnly = (loss: Loss): number => {
    const outputs = model.forward(x, { training: false });
    const t0 = performance.now();
    tf.tidy(() => {
      const g = tf.grads((...o: Tensor[]) => loss(o as Tensor4D[], y, w))(outputs);
      g.forEach((t) => t.dataSync());
    });
    const ms = performance.now() - t0;
    tf.dispose(outputs);
    return ms;
  };

  step(fused);
  step(portableLoss); // warm-up both
  const steps = { fused: [] as number[], portable: [] as number[] };
  const alone = { fused: [] as number[], portable: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first, so a drift in load falls on both.
    const order: ['fused' | 'portable', Loss][] = i % 2 ? [['portable', portableLoss], ['fused', fused]] : [['fused', fused], ['portable', portableLoss]];
    for (const [name, loss] of order) {
      steps[name].push(step(loss).step);
      alone[name].push(lossOnly(loss));
    }
  }
  const sf = median(steps.fused);
  const sp = median(steps.portable);
  const lf = median(alone.fused);
  const lp = median(alone.portable);
  console.log(`native, ${config.name} (stacks ${config.model.stacks}, f ${config.model.features}, ${config.model.inputSize} px, batch ${batch}), ` +
    `${rounds} alternating rounds, medians, load ${(await import('node:os')).loadavg()[0].toFixed(2)}:`);
  console.log(`  training step: fused ${sf.toFixed(1)} ms, portable ${sp.toFixed(1)} ms: difference ${(sp - sf).toFixed(1)} ms = ${(100 * (sp - sf) / sp).toFixed(2)}% of a step`);
  console.log(`  loss + gradient alone: fused ${lf.toFixed(2)} ms, portable ${lp.toFixed(2)} ms: saving ${(lp - lf).toFixed(2)} ms = ${(100 * (lp - lf) / sp).toFixed(2)}% of a step`);
  console.log(`  steps fused: ${steps.fused.map((t) => t.toFixed(0)).join(' ')}`);
  console.log(`  steps portable: ${steps.portable.map((t) => t.toFixed(0)).join(' ')}`);
  model.dispose();
}

await main();
