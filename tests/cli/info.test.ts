// `hourglass info` through the CLI entry point: figures, JSON, exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';
import { captureIo as capture } from './capture.js';

test('info --json gives parameters and GFLOPs of the paper\'s configurations', async () => {
  const cases: [string[], number, number][] = [
    [['--stacks', '2', '--features', '256', '--joints', '16', '--input', '256'], 6_570_400, 16.67],
    [['--stacks', '8', '--features', '256', '--joints', '16', '--input', '256'], 25_434_112, 54.88],
    [['--stacks', '1', '--features', '128', '--joints', '16', '--input', '128'], 950_800, 1.13],
  ];
  for (const [flags, parameters, gflops] of cases) {
    const io = capture();
    assert.equal(await main(['info', ...flags, '--json'], io), 0);
    assert.equal(io.lines.length, 1);
    const result = JSON.parse(io.lines[0]) as { parameters: number; gflops: number };
    assert.equal(result.parameters, parameters);
    assert.equal(Number(result.gflops.toFixed(2)), gflops);
  }
});

test('info prints a readable summary by default', async () => {
  const io = capture();
  assert.equal(await main(['info'], io), 0);
  assert.match(io.lines.join('\n'), /parameters: 6,570,400/);
  assert.match(io.lines.join('\n'), /16\.67 GFLOPs/);
});

test('bad flags and unknown commands exit non-zero with one clear line', async () => {
  const cases: [string[], RegExp][] = [
    [['info', '--stacks', 'x'], /option --stacks: 'x' is not an integer/],
    [['info', '--input', '100'], /config.inputSize must be divisible by 64/],
    [['info', '--bogus'], /unknown option '--bogus'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ];
  for (const [argv, message] of cases) {
    const io = capture();
    assert.notEqual(await main(argv, io), 0, argv.join(' '));
    assert.equal(io.errors.length, 1);
    assert.match(io.errors[0], message);
  }
});
