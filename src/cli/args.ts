// Command-line flag parsing: every flag is declared with its type; unknown flags, missing values and values of the
// wrong type are errors that name the flag and what was expected. Pure, so it is tested as a table of cases.
import { InvalidArgumentError } from '../errors.js';

export type FlagType = 'int' | 'number' | 'string' | 'boolean';

export interface FlagSpec {
  readonly type: FlagType;
  readonly help: string;
  /** Allowed values for string flags. */
  readonly choices?: readonly string[];
  /** Lower bound for numeric flags. */
  readonly min?: number;
  /** Exclusive lower bound for numeric flags (`above: 0`: a positive number). */
  readonly above?: number;
  /** String flags only: may be given several times; the value is then the list, in order. */
  readonly repeat?: boolean;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type ValueOf<S extends FlagSpec> = S['type'] extends 'int' | 'number'
  ? number
  : S['type'] extends 'boolean'
    ? boolean
    : S extends { repeat: true }
      ? string[]
      : string;

export type ParsedFlags<S extends FlagSpecs> = { -readonly [K in keyof S]?: ValueOf<S[K]> };

export interface ParsedArgs<S extends FlagSpecs> {
  readonly flags: ParsedFlags<S>;
  readonly positionals: string[];
}

/** Parses `--name value`, `--name=value` and boolean `--name` / `--no-name`; `--` ends the flags. */
export function parseArgs<S extends FlagSpecs>(argv: readonly string[], specs: S): ParsedArgs<S> {
  const flags: Record<string, number | boolean | string | string[]> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '--') {
      if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
        throw new InvalidArgumentError(`unknown option '${arg}' (options are written --name)`);
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let inline: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    let spec = specs[name];
    if (!spec && name.startsWith('no-') && specs[name.slice(3)]?.type === 'boolean' && inline === undefined) {
      name = name.slice(3);
      spec = specs[name];
      inline = 'false';
    }
    if (!spec) {
      const known = Object.keys(specs).map((k) => `--${k}`).join(', ');
      throw new InvalidArgumentError(`unknown option '--${name}' (known: ${known || 'none'})`);
    }
    if (name in flags && !spec.repeat) throw new InvalidArgumentError(`option --${name} given twice`);
    if (spec.type === 'boolean') {
      if (inline !== undefined && inline !== 'true' && inline !== 'false') {
        throw new InvalidArgumentError(`option --${name} takes no value or true/false, got '${inline}'`);
      }
      flags[name] = inline !== 'false';
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      if (i + 1 >= argv.length || (argv[i + 1].startsWith('--') && argv[i + 1].length > 2)) {
        throw new InvalidArgumentError(`option --${name} needs a value (${describe(spec)})`);
      }
      raw = argv[++i];
    }
    const value = convert(name, raw, spec);
    if (spec.repeat) flags[name] = [...((flags[name] as string[] | undefined) ?? []), String(value)];
    else flags[name] = value;
  }
  return { flags: flags as ParsedFlags<S>, positionals };
}

function describe(spec: FlagSpec): string {
  if (spec.choices) return `one of ${spec.choices.join(', ')}`;
  const bound = `${spec.min !== undefined ? ` >= ${spec.min}` : ''}${spec.above !== undefined ? ` > ${spec.above}` : ''}`;
  if (spec.type === 'int') return `an integer${bound}`;
  if (spec.type === 'number') return `a number${bound}`;
  return 'a string';
}

function convert(name: string, raw: string, spec: FlagSpec): number | string {
  if (spec.type === 'string') {
    if (spec.choices && !spec.choices.includes(raw)) {
      throw new InvalidArgumentError(`option --${name}: '${raw}' is not ${describe(spec)}`);
    }
    return raw;
  }
  const value = Number(raw);
  const ok = raw.trim() !== '' && Number.isFinite(value) && (spec.type === 'number' || Number.isInteger(value));
  if (!ok || (spec.min !== undefined && value < spec.min) || (spec.above !== undefined && value <= spec.above)) {
    throw new InvalidArgumentError(`option --${name}: '${raw}' is not ${describe(spec)}`);
  }
  return value;
}

/** Help text for a set of flags, one line each. */
export function formatFlags(specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const value = spec.type === 'boolean' ? '' : spec.choices ? ` <${spec.choices.join('|')}>` : ` <${spec.type}>`;
    return [`  --${name}${value}`, spec.help] as const;
  });
  const width = Math.max(0, ...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, help]) => left.padEnd(width) + help).join('\n');
}
