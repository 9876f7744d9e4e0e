// Per-image time of pose models through the public API, as the model cards and the README's model table state it:
// `estimatePose` on one image with a given box (no person search), batch 1, with and without the flip test, median
// of --runs after --warmup, on one backend, all models in one process and alternating, so that they see the same
// machine. The default model must take at most 100 ms per image with the flip test on `native` (issue 15).
// Usage: node dist/bench/model-speed.js [--models lsp14,flic,path.ckpt,a.ckpt+b.ckpt (an ensemble),lsp14@bf16 (a precision)]
//        [--image samples/lspet-6132.jpg]
//        [--runs 25] [--warmup 3] [--backend native] [--json]
import { createEstimator, type Estimator } from '../src/api/estimator.js';
import { BUNDLED_MODELS } from '../src/api/models.js';
import { describeNetwork } from '../src/inference/ensemble.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const models = flag('models', BUNDLED_MODELS.map((m) => m.name).join(',')).split(',').filter((m) => m);
const image = flag('image', 'samples/lspet-6132.jpg');
const runs = Number(flag('runs', '25'));
const warmup = Number(flag('warmup', '3'));
const backend = flag('backend', 'native') as 'native';
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(warmup) || warmup < 0) {
  throw new Error('--runs must be a positive integer and --warmup a non-negative one');
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  const estimators: Array<[string, Estimator]> = [];
  for (const name of models) {
    const [spec, precision = 'fp32'] = name.split('@');
    if (precision !== 'fp32' && precision !== 'bf16') throw new Error(`${name}: the precision after @ is fp32 or bf16`);
    estimators.push([name, await createEstimator({ model: spec.replaceAll('+', ','), backend, precision, detector: false })]);
  }
  // Without a detector and a box the person fills the image: that box, given, times the crop and the network only.
  const { box } = await estimators[0][1].estimatePose(image, { flipTest: false });
  const times = estimators.map(() => ({ plain: [] as number[], flip: [] as number[] }));
  for (let i = 0; i < warmup + runs; i++) {
    for (const [e, [, est]] of estimators.entries()) {
      for (const flipTest of [false, true]) {
        const t0 = performance.now();
        await est.estimatePose(image, { box, flipTest });
        if (i >= warmup) times[e][flipTest ? 'flip' : 'plain'].push(performance.now() - t0);
      }
    }
  }
  const rows = estimators.map(([name, est], e) => {
    return {
      model: name, network: describeNetwork(est.model), input: est.model.config.inputSize,
      msPerImage: Number(median(times[e].plain).toFixed(1)), msPerImageFlipTest: Number(median(times[e].flip).toFixed(1)),
    };
  });
  for (const [, est] of estimators) est.dispose();
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ backend, image, runs, rows })}\n`);
    return;
  }
  console.log(`estimatePose on ${backend}, ${image} with its box, median of ${runs} after ${warmup} warm-up, models alternating:`);
  for (const r of rows) {
    console.log(`  ${r.model.padEnd(24)} ${r.network}: ` +
      `${r.msPerImage} ms, ${r.msPerImageFlipTest} ms with the flip test`);
  }
}

await main();
