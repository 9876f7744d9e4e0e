// Runs that cannot be lost, with real child processes: kill -9 at random moments (an epoch's last step and during
// validation included) always leaves a run that --resume finishes; one writer per run folder; a diverging run stops
// without writing non-finite checkpoints; bad images are listed before the first step, or met mid-run with a checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpoint } from '../../src/model/checkpoint.js';
import { Rng } from '../../src/util/rng.js';
import { FIXTURES, REPO } from '../data/paths.js';

const BIN = join(REPO, 'bin', 'hourglass.js');
const LSPET = join(FIXTURES, 'lspet');
const SHAPE = ['--stacks', '1', '--input', '64', '--batch', '4', '--workers', '1', '--log-every', '1'];
const TINY = [...SHAPE, '--features', '8'];

interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<Done> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<Done>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
  return { child, done };
}

function logEntries(dir: string): { type: string; globalStep: number; step?: number; epoch?: number }[] {
  const path = join(dir, 'log.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').flatMap((l) => {
    try {
      return [JSON.parse(l)];
    } catch {
      return [];
    }
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `check` is true (polled), or after `ms`. */
async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await sleep(20);
  }
  return false;
}

test('kill -9 at random moments, including an epoch\'s last step and validation: --resume always finishes the run', { timeout: 300_000 }, async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'hg-kill-')), 'run');
  // 2 steps per epoch and a checkpoint after every step: half of them land on an epoch's last step. Eight epochs and
  // short random waits, so that even on a fast machine the run outlasts the kills (a run that finishes first would
  // leave kills untried, and the count below would fail).
  const EPOCHS = 8;
  const fresh = ['train', '--dataset', 'lspet', '--root', LSPET, '--images', '1-8', '--val-images', '9-12', ...TINY,
    '--epochs', String(EPOCHS), '--checkpoint-minutes', '0', '--out', dir, '--backend', 'cpu'];
  const rng = new Rng(11);
  let kills = 0;
  let duringValidation = 0;
  for (let attempt = 0; attempt < 40; attempt++) {
    const resuming = existsSync(join(dir, 'last.ckpt'));
    const { child, done } = start(resuming ? ['train', '--resume', dir] : fresh);
    let finished: Done | null = null;
    void done.then((d) => (finished = d));
    if (kills < 8) {
      const before = logEntries(dir).length;
      if (kills % 2 === 0) {
        // Right after a checkpoint of an epoch's last step: validation is running.
        await until(() => finished !== null || logEntries(dir).slice(before).some((e) => e.type === 'checkpoint' && e.step === 2), 60_000);
        if (finished === null) duringValidation++;
      } else {
        await until(() => finished !== null || logEntries(dir).length > before, 60_000);
        await sleep(rng.uniform(0, 300));
      }
      if (finished === null) {
        child.kill('SIGKILL');
        kills++;
      }
    }
    const result = await done;
    if (result.signal === 'SIGKILL') continue;
    assert.equal(result.code, 0, `attempt ${attempt} (${resuming ? 'resume' : 'fresh'}):\n${result.stderr}`);
    break;
  }
  assert.ok(kills >= 6, `only ${kills} kills landed`);
  assert.ok(duringValidation >= 2, `only ${duringValidation} kills landed during validation`);
  // The run finished all its steps, each logged once and in order, with every epoch validated once.
  const entries = logEntries(dir);
  const steps = entries.filter((e) => e.type === 'train').map((e) => e.globalStep);
  const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  assert.deepEqual(steps, range(2 * EPOCHS));
  assert.deepEqual(entries.filter((e) => e.type === 'val').map((e) => e.epoch), range(EPOCHS));
  const last = readCheckpoint(join(dir, 'last.ckpt'));
  assert.equal((last.meta.position as { globalStep: number }).globalStep, 2 * EPOCHS);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp') || f === 'run.lock'), [], 'no temporary files or lock left');
});

test('one writer per run folder: a second train or --resume names the holder; a dead holder\'s lock is taken over', { timeout: 180_000 }, async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'hg-lock-')), 'run');
  const args = ['train', '--dataset', 'lspet', '--root', LSPET, '--images', '1-8', '--no-val', ...SHAPE, '--checkpoint-minutes', '0', '--backend', 'cpu'];
  const first = start([...args, '--features', '8', '--epochs', '100000', '--out', dir]);
  try {
    await lockedFolder(dir, args, first);
  } finally {
    first.child.kill('SIGKILL'); // a failed assertion must not leave it running
  }
});

async function lockedFolder(dir: string, args: string[], first: ReturnType<typeof start>): Promise<void> {
  assert.ok(await until(() => logEntries(dir).some((e) => e.type === 'checkpoint'), 60_000), 'first run never checkpointed');
  const config = readFileSync(join(dir, 'config.json'), 'utf8');
  const second = await start([...args, '--features', '16', '--seed', '7', '--epochs', '1', '--out', dir]).done;
  assert.equal(second.code, 2, second.stderr);
  assert.match(second.stderr, new RegExp(`is in use by process ${first.child.pid} on \\S+ since \\S+ \\(train\\)`));
  const resume = await start(['train', '--resume', dir]).done;
  assert.equal(resume.code, 2, resume.stderr);
  assert.match(resume.stderr, new RegExp(`is in use by process ${first.child.pid}`));
  assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), config, 'config.json untouched by the refused runs');
  first.child.kill('SIGKILL');
  await first.done;
  // A temporary file of an interrupted write, as kill -9 leaves them: removed at the next start.
  writeFileSync(join(dir, '.last.ckpt.999999.1700000000000.tmp'), 'partial');
  const taken = await start(['train', '--resume', dir, '--epochs', '1']).done;
  assert.equal(taken.code, 0, taken.stderr);
  assert.match(taken.stderr, new RegExp(`took over the lock of process ${first.child.pid} .*which no longer runs`));
  assert.match(taken.stderr, /removed 1 unfinished temporary file/);
  assert.ok(!existsSync(join(dir, '.last.ckpt.999999.1700000000000.tmp')));
  assert.ok(!existsSync(join(dir, 'run.lock')), 'lock released at exit');
}

for (const backend of ['cpu', 'native']) {
  test(`divergence on ${backend}: stops non-zero naming the step; no non-finite checkpoint is written`, { timeout: 120_000 }, async (t) => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hg-nan-')), 'run');
    const run = await start(['train', '--dataset', 'lspet', '--root', LSPET, '--images', '1-8', '--val-images', '9-12', ...TINY,
      '--epochs', '3', '--lr=1e10', '--checkpoint-minutes', '0', '--out', dir, '--backend', backend]).done;
    if (backend === 'native' && /backend 'native' is not available/.test(run.stderr) && process.env['HOURGLASS_REQUIRE_NATIVE'] !== '1') {
      t.skip('native backend not built here');
      return;
    }
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /(loss is (NaN|-?Infinity)|weights of \S+ became NaN or infinite|holds (NaN|-?Infinity)) at epoch \d+, step \d+/);
    assert.match(run.stderr, /the last good checkpoint is .*last\.ckpt|no checkpoint was written yet/);
    for (const file of ['last.ckpt', 'best.ckpt']) {
      if (existsSync(join(dir, file))) readCheckpoint(join(dir, file)); // throws on any non-finite value
    }
  });
}

test('bad images: listed together before the first step; --skip-bad-images leaves them out; one failing mid-run is saved and resumable', { timeout: 180_000 }, async () => {
  const root = join(mkdtempSync(join(tmpdir(), 'hg-img-')), 'lspet');
  cpSync(LSPET, root, { recursive: true });
  const image = (n: number) => join(root, 'images', `im0000${n}.jpg`);
  writeFileSync(image(2), 'this is not a JPEG');
  const whole = readFileSync(image(5));
  writeFileSync(image(5), whole.subarray(0, whole.length >> 1)); // cut off
  const args = ['train', '--dataset', 'lspet', '--root', root, '--images', '1-8', '--no-val', ...TINY, '--epochs', '1', '--backend', 'cpu'];
  const refused = await start([...args, '--out', join(root, '..', 'a')]).done;
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /2 of 8 images cannot be read: .*im00002\.jpg \(not an image.*\); .*im00005\.jpg \(truncated JPEG.*\)\. .*--skip-bad-images/);
  assert.ok(!existsSync(join(root, '..', 'a', 'last.ckpt')));
  const skipped = await start([...args, '--out', join(root, '..', 'b'), '--skip-bad-images']).done;
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.match(skipped.stderr, /leaving out 2 of 8 images that cannot be read/);
  assert.match(skipped.stderr, /training on lspet \(6\)/);

  // Damaged inside (header and end intact): found only when decoded, mid-run.
  writeFileSync(image(2), readFileSync(join(LSPET, 'images', 'im00002.jpg')));
  writeFileSync(image(5), whole);
  const damaged = Buffer.from(readFileSync(image(3)));
  damaged.fill(0xff, damaged.length >> 1, (damaged.length >> 1) + 64);
  writeFileSync(image(3), damaged);
  const dir = join(root, '..', 'c');
  const stopped = await start([...args, '--out', dir]).done;
  assert.equal(stopped.code, 2, stopped.stderr);
  assert.match(stopped.stderr, /im00003\.jpg: not a readable image .*training stopped at epoch 1, step \d and saved in .*last\.ckpt: .*--skip-bad-images/);
  const resumed = await start(['train', '--resume', dir, '--skip-bad-images']).done;
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /skipped epoch 1, step \d: .*im00003\.jpg/);
  assert.equal(logEntries(dir).filter((e) => e.type === 'bad-image').length, 1);
});
