// `hourglass doctor`: what this installation can run on: each TF.js backend, whether it loads here and why not,
// the native addon's oneDNN build, and the command that builds native when it is missing.
import { parseArgs } from '../args.js';
import type { Command } from '../command.js';
import { InvalidArgumentError } from '../../errors.js';
import { probeBackends } from '../../backend/select.js';
import { VERSION } from '../../version.js';

const FLAGS = {
  json: { type: 'boolean', help: 'print one JSON object' },
} as const;

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'which backends load here (native, wasm, ...) and why the others do not',
  usage: 'doctor [--json]',
  flags: FLAGS,
  async run(argv, io) {
    const { flags, positionals } = parseArgs(argv, FLAGS);
    if (positionals.length) throw new InvalidArgumentError(`doctor takes no arguments, got '${positionals.join(' ')}'`);
    const backends = await probeBackends();
    const { nativeInfo } = await import('../../backend/native/index.js');
    const native = backends.find((b) => b.name === 'native')?.ok ? nativeInfo() : null;
    const auto = backends.find((b) => b.ok)?.name ?? null;
    if (flags.json) {
      io.out(JSON.stringify({ version: VERSION, node: process.versions.node, platform: `${process.platform}-${process.arch}`, auto, backends, native }));
      return 0;
    }
    io.out(`hourglass ${VERSION}, Node ${process.versions.node} (${process.platform}-${process.arch})`);
    io.out('backends, fastest first:');
    for (const b of backends) io.out(`  ${b.name.padEnd(11)}${b.ok ? `loads${b.note ? ` (${b.note})` : ''}` : `no: ${b.reason}`}`);
    if (native) io.out(`native: oneDNN ${native.onednn}, ${native.threads} threads, ${native.isa}`);
    io.out(auto ? `'auto' (the default) uses ${auto}` : 'no backend loads here');
    return auto ? 0 : 1;
  },
};
