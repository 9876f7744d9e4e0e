// File-system failures are one line naming the path and what to do (never a stack trace): an output that is a file,
// a model that is a folder, an unwritable location; the mapping itself on errors as Node raises them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSystemError, main } from '../../src/cli/main.js';
import { captureIo } from './capture.js';
import { FIXTURES, REPO } from '../data/paths.js';

const SAMPLE = join(FIXTURES, 'lspet', 'images', 'im00001.jpg');

test('an existing file as --out, or a folder as --model: one line naming the path, non-zero exit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hg-fs-'));
  const file = join(dir, 'occupied');
  writeFileSync(file, 'x');
  const cases: [string[], RegExp][] = [
    [['train', '--dataset', 'lspet', '--root', join(FIXTURES, 'lspet'), '--images', '1-8', '--no-val', '--out', file, '--backend', 'cpu'],
      new RegExp(`${file}: is a file; a run folder is needed here`)],
    [['predict', SAMPLE, '--out', file, '--backend', 'cpu'], new RegExp(`${file}.*(already exists|part of the path is a file)`)],
    [['predict', SAMPLE, '--model', dir, '--backend', 'cpu'], new RegExp(`${dir}: is a folder; expected a checkpoint file`)],
    [['eval', '--dataset', 'lspet', '--root', join(FIXTURES, 'lspet'), '--model', dir, '--backend', 'cpu'], new RegExp(`${dir}: is a folder; expected a checkpoint file`)],
  ];
  for (const [argv, message] of cases) {
    const io = captureIo();
    const code = await main(argv, io);
    assert.notEqual(code, 0, argv.join(' '));
    const last = io.errors[io.errors.length - 1] ?? '';
    assert.match(last, message, argv.join(' '));
    assert.ok(!last.includes('\n') && !/internal error|    at /.test(io.errors.join('\n')), `one line, no stack: ${io.errors.join('\n')}`);
  }
});

test('file-system errors as Node raises them become one line naming the path and the remedy', () => {
  const err = (code: string, syscall: string, path: string) =>
    Object.assign(new Error(`${code}: failed, ${syscall} '${path}'`), { code, syscall, path, errno: -1 });
  assert.equal(fileSystemError(err('EACCES', 'open', '/srv/runs/x/config.json')),
    '/srv/runs/x/config.json: open failed, permission denied: choose a location you can write to, or change its permissions (EACCES)');
  assert.match(fileSystemError(err('ENOSPC', 'write', '/d/last.ckpt')) ?? '', /^\/d\/last\.ckpt: write failed, no space left on the device/);
  assert.match(fileSystemError(err('EROFS', 'mkdir', '/ro/out')) ?? '', /read-only file system/);
  assert.equal(fileSystemError(new Error('plain')), null);
});

test('an unwritable output folder (a real EACCES, as a non-root user) is one line, exit non-zero', { timeout: 60_000 }, async () => {
  const { chmodSync } = await import('node:fs');
  const { spawnSync } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'hg-fs-'));
  chmodSync(dir, 0o555); // nobody may create anything in it
  const root = process.getuid?.() === 0;
  // As root (CI), run the command as the unprivileged user 'nobody', for whom the folder is read-only.
  const result = spawnSync(process.execPath, [join(REPO, 'bin', 'hourglass.js'), 'predict', SAMPLE, '--out', join(dir, 'out'), '--backend', 'cpu'],
    { encoding: 'utf8', ...(root ? { uid: 65534, gid: 65534 } : {}), env: { ...process.env, HOME: tmpdir() } });
  assert.notEqual(result.status, 0, result.stderr);
  assert.match(result.stderr, new RegExp(`${join(dir, 'out')}: mkdir failed, permission denied: choose a location you can write to`));
  assert.ok(!/internal error|    at /.test(result.stderr), result.stderr);
});
