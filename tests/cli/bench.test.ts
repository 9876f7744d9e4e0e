// `hourglass bench` flag handling: comma lists are checked against the known configs and engines (table of cases).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseList } from '../../src/cli/commands/bench.js';
import { BENCH_CONFIG_NAMES, DEFAULT_BENCH_CONFIGS, DEFAULT_ENGINES, ENGINE_NAMES } from '../../src/bench/configs.js';
import { main } from '../../src/cli/main.js';

test('--configs and --engines lists', () => {
  const cases: [string | undefined, readonly string[] | RegExp][] = [
    [undefined, ['native', 'native-bf16', 'wasm', 'pytorch', 'onnxruntime']],
    ['native', ['native']],
    ['pytorch, native', ['native', 'pytorch']],
    ['native,native', ['native']],
    ['webgpu,pytorch', ['webgpu', 'pytorch']],
    ['native,tpu', /--engines: unknown 'tpu' \(choose from native, native-bf16, wasm, webgpu, pytorch, onnxruntime\)/],
    [',', /--engines is empty/],
  ];
  for (const [value, expected] of cases) {
    if (expected instanceof RegExp) assert.throws(() => parseList('engines', value, ENGINE_NAMES, DEFAULT_ENGINES), expected);
    else assert.deepEqual(parseList('engines', value, ENGINE_NAMES, DEFAULT_ENGINES), expected);
  }
  assert.deepEqual(parseList('configs', undefined, BENCH_CONFIG_NAMES, DEFAULT_BENCH_CONFIGS), ['small', 'paper2'], 'tiny only when asked');
  assert.deepEqual(parseList('configs', 'paper2', BENCH_CONFIG_NAMES), ['paper2']);
  assert.deepEqual(parseList('configs', 'tiny', BENCH_CONFIG_NAMES), ['tiny']);
  assert.throws(() => parseList('configs', 'huge', BENCH_CONFIG_NAMES), /--configs: unknown 'huge' \(choose from small, paper2, tiny\)/);
});

test('bench rejects bad flags with one line before measuring anything', async () => {
  const err: string[] = [];
  const io = { out: () => undefined, err: (l: string) => err.push(l), isTty: false };
  assert.equal(await main(['bench', '--configs', 'huge'], io), 2);
  assert.match(err.join('\n'), /--configs: unknown 'huge'/);
  assert.equal(await main(['bench', '--steps', '0'], io), 2);
  assert.match(err.join('\n'), /--steps: '0' is not an integer >= 1/);
});
