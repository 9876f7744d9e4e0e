// `hourglass info`: parameter count and forward cost (GFLOPs = 2 x multiply-adds of all convolutions) of a config.
import { makeConfig, heatmapSize } from '../../model/config.js';
import { StackedHourglass } from '../../model/network.js';
import { parseArgs } from '../args.js';
import type { Command } from '../command.js';
import { InvalidArgumentError } from '../../errors.js';

const FLAGS = {
  stacks: { type: 'int', min: 1, help: 'number of stacked hourglasses (default 2)' },
  features: { type: 'int', min: 2, help: 'feature channels f (default 256)' },
  modules: { type: 'int', min: 1, help: 'residual modules per step (default 1)' },
  joints: { type: 'int', min: 1, help: 'output heatmaps (default 16)' },
  input: { type: 'int', min: 16, help: 'input side in pixels, a multiple of 64 (default 256)' },
  json: { type: 'boolean', help: 'print one JSON object' },
} as const;

export const infoCommand: Command = {
  name: 'info',
  summary: 'parameter count and GFLOPs of a network configuration',
  usage: 'info [--stacks S] [--features F] [--modules M] [--joints K] [--input N] [--json]',
  flags: FLAGS,
  async run(argv, io) {
    const { flags, positionals } = parseArgs(argv, FLAGS);
    if (positionals.length) throw new InvalidArgumentError(`info takes no arguments, got '${positionals.join(' ')}'`);
    const config = makeConfig({
      stacks: flags.stacks,
      features: flags.features,
      modules: flags.modules,
      joints: flags.joints,
      inputSize: flags.input,
    });
    const net = new StackedHourglass(config);
    const parameters = net.parameterCount();
    const gflops = net.flops() / 1e9;
    const hm = heatmapSize(config);
    if (flags.json) {
      io.out(JSON.stringify({ config, parameters, gflops: Number(gflops.toFixed(4)), heatmapSize: hm, weightsMb: (parameters * 4) / 2 ** 20 }));
      return 0;
    }
    io.out(`stacked hourglass: ${config.stacks} stack(s), ${config.features} features, ${config.modules} module(s) per step, ${config.joints} joints`);
    io.out(`input ${config.inputSize}x${config.inputSize} -> heatmaps ${hm}x${hm}x${config.joints} per stack`);
    io.out(`parameters: ${parameters.toLocaleString('en-US')} (${((parameters * 4) / 2 ** 20).toFixed(1)} MB as float32)`);
    io.out(`forward cost: ${gflops.toFixed(2)} GFLOPs per image (2 x multiply-adds of all convolutions)`);
    return 0;
  },
};
