/** Small command-line helpers shared by the benchmark programs. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_TEST_BROKER, type LogConfig } from '../src/log/index.ts';

/** Prints the usage and exits when --help was given. */
export function exitOnHelp(help: boolean | undefined, usage: string): void {
  if (help !== true) return;
  console.log(usage);
  process.exit(0);
}

/** A parser of positive-integer flags whose errors end with the usage. */
export function positiveIntParser(usage: string): (name: string, value: string) => number {
  return (name, value) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got '${value}'\n${usage}`);
    return n;
  };
}

/** Progress lines: stdout normally, stderr under --json (so the last stdout line is the JSON). */
export function sayer(json: boolean): (line: string) => void {
  return (line) => {
    if (json) console.error(line);
    else console.log(line);
  };
}

/** The parseArgs options {@link benchLogConfig} reads: --backend, --dir and --brokers. */
export const LOG_OPTIONS = {
  backend: { type: 'string', default: 'embedded' },
  dir: { type: 'string' },
  brokers: { type: 'string', default: DEFAULT_TEST_BROKER },
} as const;

/**
 * The log a benchmark runs on, from --backend, --dir and --brokers: an embedded log in `dir` (a
 * fresh temp dir, removed by `cleanup`, when none is given) or the Kafka brokers.
 */
export function benchLogConfig(
  values: { readonly backend: string; readonly dir?: string | undefined; readonly brokers: string },
  usage: string,
): { config: LogConfig; cleanup: () => void } {
  if (values.backend === 'kafka') return { config: { backend: 'kafka', brokers: values.brokers.split(',') }, cleanup: () => {} };
  if (values.backend !== 'embedded') throw new Error(`--backend must be 'embedded' or 'kafka', got '${values.backend}'\n${usage}`);
  if (values.dir !== undefined) return { config: { backend: 'embedded', dir: values.dir }, cleanup: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  return { config: { backend: 'embedded', dir }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
