// `hourglass bench` flag handling: comma lists are checked against the known configs and engines (table of cases).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseList } from '../../src/cli/commands/bench.js';
import { BENCH_CONFIG_NAMES, ENGINE_NAMES } from '../../src/bench/configs.js';
import { main } from '../../src/cli/main.js';

test('--configs and --engines lists', () => {
  const cases: [string | undefined, readonly string[] | RegExp][] = [
    [undefined, ['native', 'native-bf16', 'wasm', 'pytorch', 'onnxruntime']],
    ['native', ['native']],
    ['pytorch, native', ['native', 'pytorch']],
    ['native,native', ['native']],
    ['native,tpu', /--engines: unknown 'tpu' \(choose from native, native-bf16, wasm, pytorch, onnxruntime\)/],
    [',', /--engines is empty/],
  ];
  for (const [value, expected] of cases) {
    if (expected instanceof RegExp) assert.throws(() => parseList('engines', value, ENGINE_NAMES), expected);
    else assert.deepEqual(parseList('engines', value, ENGINE_NAMES), expected);
  }
  assert.deepEqual(parseList('configs', 'paper2', BENCH_CONFIG_NAMES), ['paper2']);
  assert.throws(() => parseList('configs', 'tiny', BENCH_CONFIG_NAMES), /--configs: unknown 'tiny' \(choose from small, paper2\)/);
});

test('bench rejects bad flags with one line before measuring anything', async () => {
  const err: string[] = [];
  const io = { out: () => undefined, err: (l: string) => err.push(l), isTty: false };
  assert.equal(await main(['bench', '--configs', 'huge'], io), 2);
  assert.match(err.join('\n'), /--configs: unknown 'huge'/);
  assert.equal(await main(['bench', '--steps', '0'], io), 2);
  assert.match(err.join('\n'), /--steps: '0' is not an integer >= 1/);
});
