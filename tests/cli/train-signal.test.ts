// SIGTERM / Ctrl-C during `hourglass train` (a real child process): a checkpoint is saved, the process exits 130
// within seconds, and the run continues with --resume. (Before the trainer yielded to the event loop each step,
// signals waited for minutes: Node handles up to 1000 worker replies per turn, each running a training step.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, REPO } from '../data/paths.js';

const BIN = join(REPO, 'bin', 'hourglass.js');

function run(args: string[], onStderr: (text: string, child: ReturnType<typeof spawn>) => void = () => {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      onStderr(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} during training saves a checkpoint, exits 130 promptly, and --resume continues`, { timeout: 120_000 }, async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hg-signal-')), 'run');
    let sentAt = 0;
    const { code, stderr } = await run(
      ['train', '--dataset', 'lspet', '--root', join(FIXTURES, 'lspet'), '--stacks', '1', '--features', '16', '--input', '64',
        '--batch', '4', '--epochs', '100000', '--no-val', '--workers', '1', '--out', out],
      (text, child) => {
        // The first progress line means training steps are running; then interrupt.
        if (sentAt === 0 && /epoch 1\/100000/.test(text)) {
          sentAt = Date.now();
          setTimeout(() => child.kill(signal), 1500);
          // A child that ignores the signal must not hang the suite: kill it, and the assertions below fail.
          setTimeout(() => child.kill('SIGKILL'), 31_500).unref();
        }
      },
    );
    assert.ok(sentAt > 0, `training never started:\n${stderr}`);
    const took = Date.now() - sentAt - 1500;
    assert.equal(code, 130, stderr);
    assert.match(stderr, new RegExp(`stopped \\(${signal}\\) at epoch \\d+, step \\d+`));
    assert.ok(took < 20_000, `exit took ${took} ms after ${signal}`);
    assert.ok(existsSync(join(out, 'last.ckpt')));
    const resumed = await run(['train', '--resume', out, '--epochs', '1']);
    // --epochs 1 is already reached or finished at once: the run ends normally from the saved state.
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /resuming .* at epoch \d+, step \d+ \(\d+ images seen\)/);
  });
}
