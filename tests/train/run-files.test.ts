// The run log read back (src/train/run-files.ts): entries as written, a torn line skipped, a JSON line that is not an
// entry an error naming the file and the line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { RunLog } from '../../src/train/run-files.js';
import { FileFormatError } from '../../src/errors.js';

function withLog(fn: (log: RunLog, path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'hg-log-'));
  try {
    const path = join(dir, 'log.jsonl');
    fn(new RunLog(path), path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('log entries read back as written; a line torn by a hard kill is skipped', () => {
  withLog((log, path) => {
    log.append({ type: 'train', globalStep: 1, loss: 0.5 });
    appendFileSync(path, '{"type":"train","globalS');
    appendFileSync(path, '\n');
    log.append({ type: 'val', globalStep: 2, pck: 41.5 });
    const entries = log.entries();
    assert.deepEqual(entries.map((e) => [e.type, e.globalStep]), [['train', 1], ['val', 2]]);
    assert.equal(entries[1].pck, 41.5);
  });
});

test('a JSON line that is not a log entry is an error naming the file and the line', () => {
  for (const bad of ['[1, 2]', '{"type": 3, "globalStep": 1}', '{"type": "train"}', '{"type": "train", "globalStep": -1}', '{"type": "train", "globalStep": 1.5}', 'null']) {
    withLog((log, path) => {
      log.append({ type: 'train', globalStep: 1 });
      appendFileSync(path, `${bad}\n`);
      assert.throws(() => log.entries(), (err: unknown) => err instanceof FileFormatError && err.message.includes(path) && err.message.includes('line 2'), bad);
    });
  }
});
