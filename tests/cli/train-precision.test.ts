// `hourglass train --precision` (issue 16): recorded in config.json, changeable on --resume in both directions with
// the run staying valid (finite losses, fp32 checkpoints that load), and runs without the field resume as fp32.
// Where oneDNN has no native bf16, asking for it is the one-line error instead (the test names say which is checked).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { readCheckpoint } from '../../src/model/checkpoint.js';
import type { TrainConfig } from '../../src/train/config.js';
import { captureIo as capture } from './capture.js';
import { FIXTURES } from '../data/paths.js';
import { SKIP_NATIVE, requireNative } from '../backend/native-parity.js';

const support = SKIP_NATIVE ? null : (await import('../../src/backend/native/precision.js')).bf16Support();
const HAS_BF16 = support?.native === true;

const NEW_RUN = ['train', '--dataset', 'lspet', '--root', join(FIXTURES, 'lspet'), '--images', '1-8', '--no-val', '--stacks', '1',
  '--features', '32', '--input', '64', '--batch', '4', '--workers', '1', '--log-every', '1', '--backend', 'native'];

async function train(args: string[]): Promise<{ code: number; stderr: string }> {
  const io = capture();
  const code = await main(args, io);
  return { code, stderr: io.errors.join('\n') };
}

function config(dir: string): TrainConfig {
  return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as TrainConfig;
}

/** The run's logged training losses, each finite, and its last checkpoint loading with finite weights and state. */
function assertValidRun(dir: string, steps: number): void {
  const log = readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; loss?: number });
  const losses = log.filter((r) => r.type === 'train').map((r) => r.loss as number);
  assert.equal(losses.length, steps, 'one log line per step');
  for (const loss of losses) assert.ok(Number.isFinite(loss) && loss > 0, `loss ${loss}`);
  const ckpt = readCheckpoint(join(dir, 'last.ckpt'));
  assert.ok(ckpt.weights.size > 0 && ckpt.state.size > 0, 'weights and optimiser state saved');
  for (const [name, w] of [...ckpt.weights, ...ckpt.state]) assert.ok(w.data.every(Number.isFinite), `${name} is finite`);
}

for (const [first, then] of [['bf16', 'fp32'], ['fp32', 'bf16']] as const) {
  const name = HAS_BF16
    ? `a ${first} run resumed in ${then} is a valid run, each precision recorded in config.json`
    : `train --precision bf16 is refused with one clear line on this CPU (no native bf16; ${first} -> ${then} not run)`;
  test(name, { skip: SKIP_NATIVE, timeout: 240_000 }, async () => {
    requireNative();
    const dir = join(mkdtempSync(join(tmpdir(), 'hg-precision-')), 'run');
    if (!HAS_BF16) {
      const refused = await train([...NEW_RUN, '--max-images', '4', '--precision', 'bf16', '--out', dir]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr.split('\n').pop() ?? '', /precision bf16 needs native bf16 instructions \(avx512_bf16 or amx_bf16\) that oneDNN dispatches; not here/);
      assert.ok(!existsSync(join(dir, 'config.json')), 'nothing written');
      return;
    }
    const a = await train([...NEW_RUN, '--max-images', '8', '--precision', first, '--out', dir]);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stderr, new RegExp(`^precision: ${first}`, 'm'));
    assert.equal(config(dir).precision, first);
    const b = await train(['train', '--resume', dir, '--max-images', '16', '--precision', then]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stderr, new RegExp(`^precision: ${then}`, 'm'));
    assert.equal(config(dir).precision, then);
    assertValidRun(dir, 4);
    // Without --precision a resume keeps the run's recorded one.
    const c = await train(['train', '--resume', dir, '--max-images', '20']);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stderr, new RegExp(`^precision: ${then}`, 'm'));
    assertValidRun(dir, 5);
  });
}

test('a run whose config.json has no precision (before issue 16) resumes in fp32, and may switch to auto', { skip: SKIP_NATIVE, timeout: 240_000 }, async () => {
  requireNative();
  const dir = join(mkdtempSync(join(tmpdir(), 'hg-precision-')), 'run');
  const a = await train([...NEW_RUN, '--max-images', '4', '--out', dir]);
  assert.equal(a.code, 0, a.stderr);
  const { precision, ...legacy } = config(dir);
  assert.equal(precision, 'fp32', 'fp32 is the default');
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(legacy, null, 2)}\n`);
  const b = await train(['train', '--resume', dir, '--max-images', '8']);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /^precision: fp32$/m);
  assert.equal(config(dir).precision, 'fp32');
  const c = await train(['train', '--resume', dir, '--max-images', '12', '--precision', 'auto']);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stderr, new RegExp(`^precision: ${HAS_BF16 ? 'bf16' : 'fp32'} \\(auto: oneDNN dispatches \\S+; CPU bf16 flags: `, 'm'));
  assert.equal(config(dir).precision, HAS_BF16 ? 'bf16' : 'fp32');
  assertValidRun(dir, 3);
});

test('train refuses an unknown --precision, and bf16 on a backend other than native', async () => {
  const bad = await train(['train', '--dataset', 'lspet', '--root', join(FIXTURES, 'lspet'), '--precision', 'fp16', '--backend', 'cpu']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr.split('\n').pop() ?? '', /unknown precision 'fp16' \(choose one of: fp32, bf16, auto\)/);
  const cpu = await train(['train', '--dataset', 'lspet', '--root', join(FIXTURES, 'lspet'), '--precision', 'bf16', '--backend', 'cpu']);
  assert.notEqual(cpu.code, 0);
  assert.match(cpu.stderr.split('\n').pop() ?? '', /precision bf16 runs only on the native backend \(this run uses cpu\)/);
});
