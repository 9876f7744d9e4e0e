// Flag parsing as a table of one-line cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, type FlagSpecs } from '../../src/cli/args.js';

const SPECS = {
  stacks: { type: 'int', min: 1, help: '' },
  lr: { type: 'number', help: '' },
  rate: { type: 'number', above: 0, help: '' },
  dataset: { type: 'string', choices: ['lsp', 'flic'], help: '' },
  out: { type: 'string', help: '' },
  json: { type: 'boolean', help: '' },
  extra: { type: 'string', repeat: true, help: '' },
} as const satisfies FlagSpecs;

const OK: [string, Record<string, unknown>, string[]][] = [
  ['--stacks 2', { stacks: 2 }, []],
  ['--stacks=8 a b', { stacks: 8 }, ['a', 'b']],
  ['--lr 2.5e-4', { lr: 2.5e-4 }, []],
  ['--lr -1', { lr: -1 }, []],
  ['--rate 1e-9', { rate: 1e-9 }, []],
  ['--dataset flic --json', { dataset: 'flic', json: true }, []],
  ['--no-json', { json: false }, []],
  ['--json=false x', { json: false }, ['x']],
  ['img.jpg --out dir', { out: 'dir' }, ['img.jpg']],
  ['-- --stacks', {}, ['--stacks']],
  ['--extra a --extra=b', { extra: ['a', 'b'] }, []],
];

const BAD: [string, RegExp][] = [
  ['--stack 2', /unknown option '--stack' \(known: --stacks, --lr, --rate, --dataset, --out, --json, --extra\)/],
  ['--stacks', /option --stacks needs a value \(an integer >= 1\)/],
  ['--stacks 1.5', /option --stacks: '1.5' is not an integer >= 1/],
  ['--stacks 0', /option --stacks: '0' is not an integer >= 1/],
  ['--stacks two', /'two' is not an integer/],
  ['--lr abc', /option --lr: 'abc' is not a number/],
  ['--rate 0', /option --rate: '0' is not a number > 0/],
  ['--rate -1', /option --rate: '-1' is not a number > 0/],
  ['--dataset coco', /option --dataset: 'coco' is not one of lsp, flic/],
  ['--json=yes', /option --json takes no value or true\/false/],
  ['--out a --out b', /option --out given twice/],
  ['-x', /unknown option '-x'/],
  ['--out --json', /option --out needs a value/],
];

test('valid command lines', () => {
  for (const [line, flags, positionals] of OK) {
    const parsed = parseArgs(line.split(' '), SPECS);
    assert.deepEqual(parsed.flags, flags, line);
    assert.deepEqual(parsed.positionals, positionals, line);
  }
});

test('invalid command lines name the flag and what was expected', () => {
  for (const [line, message] of BAD) {
    assert.throws(() => parseArgs(line.split(' '), SPECS), message, line);
  }
});
