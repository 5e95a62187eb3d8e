/**
 * Argument parsing shared by every command: a strict `node:util` parseArgs wrapper that turns
 * mistakes into {@link UsageError}s (printed with the command's usage, exit code 2), and parsers of
 * numeric and enumerated flag values.
 */
import { parseArgs } from 'node:util';

/** A mistake on the command line; the CLI prints it with the usage of `usage` and exits with 2. */
export class UsageError extends Error {
  /** The usage text of the command that rejected the arguments. */
  readonly usage: string;

  constructor(message: string, usage: string) {
    super(message);
    this.name = 'UsageError';
    this.usage = usage;
  }
}

/** `--help` or `-h` was given: the CLI prints `usage` to stdout and exits with 0. */
export class HelpRequested extends Error {
  /** The usage text of the command asked about. */
  readonly usage: string;

  constructor(usage: string) {
    super('help requested');
    this.name = 'HelpRequested';
    this.usage = usage;
  }
}

/** Flag definitions in parseArgs' format. */
export type FlagSpec = Record<string, { readonly type: 'string' | 'boolean'; readonly short?: string; readonly multiple?: boolean }>;

/** What {@link parseCommand} returns: flag values by name and the positional arguments. */
export interface ParsedCommand {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/**
 * Parses `args` strictly against `flags` (plus `--help`/`-h`, which throws {@link HelpRequested}).
 * Unknown flags, missing flag values and flags given twice throw a {@link UsageError} naming the flag.
 */
export function parseCommand(args: readonly string[], flags: FlagSpec, usage: string): ParsedCommand {
  const options = { ...flags, help: { type: 'boolean', short: 'h' } } as const;
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: true, tokens: true });
  } catch (error) {
    throw new UsageError(explainParseError(error), usage);
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option') continue;
    if (seen.has(token.name) && token.name !== 'help') throw new UsageError(`flag ${token.rawName} given more than once`, usage);
    seen.add(token.name);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help === true) throw new HelpRequested(usage);
  return { values, positionals: parsed.positionals };
}

/** Rewrites parseArgs' messages (which mention its API) into ones for a person at a terminal. */
function explainParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  const flag = /'(-{1,2}[^'\s]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${flag ?? message}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (message.includes('argument missing')) return `flag ${flag ?? ''} needs a value`.replace('  ', ' ');
    return `flag ${flag ?? ''} takes no value`.replace('  ', ' ');
  }
  return message;
}

/** Reads a string flag; undefined when absent. */
export function stringFlag(parsed: ParsedCommand, name: string): string | undefined {
  const v = parsed.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** Options of {@link intFlag}. */
export interface IntFlagOptions {
  readonly min?: number;
  readonly max?: number;
}

/** Reads an integer flag (decimal, `_` separators allowed); throws a UsageError naming it when bad. */
export function intFlag(parsed: ParsedCommand, name: string, usage: string, options: IntFlagOptions = {}): number | undefined {
  const raw = stringFlag(parsed, name);
  if (raw === undefined) return undefined;
  return parseIntValue(`--${name}`, raw, usage, options);
}

/** Parses `raw` as an integer within bounds, or throws a UsageError naming `what`. */
export function parseIntValue(what: string, raw: string, usage: string, options: IntFlagOptions = {}): number {
  const min = options.min ?? 0;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const n = /^-?\d[\d_]*$/.test(raw.trim()) ? Number(raw.trim().replaceAll('_', '')) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in ${min}..${max}`;
    throw new UsageError(`${what} must be an integer ${range}, got ${JSON.stringify(raw)}`, usage);
  }
  return n;
}

/** Reads a positive number flag (fractions allowed); throws a UsageError naming it when bad. */
export function numberFlag(parsed: ParsedCommand, name: string, usage: string, min = 0): number | undefined {
  const raw = stringFlag(parsed, name);
  if (raw === undefined) return undefined;
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(n) || n <= min) throw new UsageError(`--${name} must be a number > ${min}, got ${JSON.stringify(raw)}`, usage);
  return n;
}

/** Reads a flag whose value must be one of `choices`. */
export function choiceFlag<const C extends string>(parsed: ParsedCommand, name: string, choices: readonly C[], usage: string): C | undefined {
  const raw = stringFlag(parsed, name);
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}; got ${JSON.stringify(raw)}`, usage);
  }
  return raw as C;
}

/** Throws a UsageError unless exactly `names.length` positional arguments were given. */
export function expectPositionals(parsed: ParsedCommand, names: readonly string[], usage: string): string[] {
  const got = parsed.positionals;
  if (got.length < names.length) throw new UsageError(`missing ${names.slice(got.length).join(' ')}`, usage);
  if (got.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(got[names.length])}`, usage);
  return [...got];
}
