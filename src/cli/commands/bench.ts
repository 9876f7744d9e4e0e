// `hourglass bench`: inference latency and training throughput of native and wasm TF.js beside PyTorch and
// onnxruntime-node on the same network, with peak memory, ratios and the data pipeline's rate (issues 3 and 4).
import { resolve } from 'node:path';
import { parseArgs } from '../args.js';
import type { Command } from '../command.js';
import { InvalidArgumentError } from '../../errors.js';
import { BENCH_CONFIG_NAMES, DEFAULT_BENCH_CONFIGS, DEFAULT_ENGINES, ENGINE_NAMES, type BenchConfigName, type EngineName } from '../../bench/configs.js';
import { TORCH_DEVICES } from '../../bench/run.js';
import { runBench } from '../../bench/run.js';
import { formatReport } from '../../bench/report.js';
import { defaultWorkers } from '../../data/batches.js';

const FLAGS = {
  configs: { type: 'string', help: `comma-separated configurations (default ${DEFAULT_BENCH_CONFIGS.join(',')}; small = 1 stack/128/128px, paper2 = 2 stacks/256/256px, tiny = 1 stack/16/64px, a smoke test)` },
  engines: { type: 'string', help: `comma-separated engines: ${ENGINE_NAMES.join(', ')} (default ${DEFAULT_ENGINES.join(',')}; webgpu: a GPU through Dawn, npm install webgpu)` },
  'torch-device': { type: 'string', choices: TORCH_DEVICES, help: 'where the PyTorch peer runs: auto (default: cuda when torch.cuda.is_available()), cpu or cuda' },
  steps: { type: 'int', min: 1, help: 'timed inference runs and training steps per engine (default 10; wasm is capped lower)' },
  python: { type: 'string', help: 'Python interpreter with torch (default: the first of python3, /usr/bin/python3 that has it)' },
  data: { type: 'string', help: 'LSPET folder for the pipeline rate (default ../shared/data/lspet; generated images when absent)' },
  workers: { type: 'int', min: 1, help: 'pipeline worker threads (default cores - 1, at least 1, as hourglass train)' },
  'timeout-minutes': { type: 'number', min: 0.1, help: 'time limit of each engine\'s measurement (default 15)' },
  json: { type: 'boolean', help: 'print one JSON object (progress lines go to stderr)' },
} as const;

/** Parses a comma-separated list against its allowed values; the error names the flag, the value and the set. */
export function parseList<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], defaults: readonly T[] = allowed): T[] {
  if (value === undefined) return [...defaults];
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new InvalidArgumentError(`--${flag} is empty (choose from ${allowed.join(', ')})`);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) throw new InvalidArgumentError(`--${flag}: unknown '${item}' (choose from ${allowed.join(', ')})`);
  }
  return allowed.filter((a) => items.includes(a));
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'inference latency, training images/s and peak memory of native, wasm, webgpu, PyTorch and onnxruntime side by side',
  usage: 'bench [--json] [--configs small,paper2,tiny] [--engines native,wasm,webgpu,pytorch,onnxruntime] [--torch-device auto|cpu|cuda] [--steps N]',
  flags: FLAGS,
  async run(argv, io) {
    const { flags, positionals } = parseArgs(argv, FLAGS);
    if (positionals.length) throw new InvalidArgumentError(`bench takes no arguments, got '${positionals.join(' ')}'`);
    const configs: BenchConfigName[] = parseList('configs', flags.configs, BENCH_CONFIG_NAMES, DEFAULT_BENCH_CONFIGS);
    const engines: EngineName[] = parseList('engines', flags.engines, ENGINE_NAMES, DEFAULT_ENGINES);
    const report = await runBench({
      configs, engines,
      steps: flags.steps ?? 10,
      python: flags.python,
      torchDevice: TORCH_DEVICES.find((d) => d === flags['torch-device']) ?? 'auto',
      lspetRoot: resolve(flags.data ?? '../shared/data/lspet'),
      workers: flags.workers ?? defaultWorkers(),
      timeoutMs: (flags['timeout-minutes'] ?? 15) * 60_000,
    }, (line) => io.err(`bench: ${line}`));
    if (flags.json) io.out(JSON.stringify(report));
    else for (const line of formatReport(report, configs)) io.out(line);
    // Every engine failing is a failed bench; a missing peer alone is not.
    return report.results.length > 0 ? 0 : 1;
  },
};
