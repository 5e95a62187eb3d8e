/**
 * The `sluice` dispatcher: global flags, the command table, help, and turning every failure into a
 * message and an exit code (2 for usage mistakes, 1 for errors; never a stack trace unless
 * SLUICE_DEBUG is set).
 */
import { readFileSync } from 'node:fs';
import { isSluiceError } from '../errors.ts';
import { HelpRequested, UsageError } from './args.ts';
import { benchCommand } from './bench.ts';
import type { Command } from './command.ts';
import { detectCommand } from './detect.ts';
import { evalCommand } from './eval.ts';
import { modelsCommand } from './models.ts';
import { serveCommand } from './serve.ts';
import { LOG_FLAGS_HELP, LOG_FLAG_NAMES } from './log-flags.ts';
import { dim, err, out, red } from './output.ts';
import { startCommand } from './start.ts';
import { topicsCommand } from './topics.ts';
import { trainCommand } from './train.ts';

/** Every top-level command, in the order `sluice --help` lists them. */
export const COMMANDS: readonly Command[] = [startCommand, serveCommand, modelsCommand, trainCommand, topicsCommand, benchCommand, evalCommand, detectCommand];

/** The version in package.json (two folders up from both src/cli and dist/cli). */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Text of `sluice --help`. */
export function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 'help'.length) + 2;
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`);
  return `Sluice ${version()}: fast-data platform (partitioned log, streaming, hot-swapped anomaly models)

Usage: sluice <command> [flags]

Commands:
${lines.join('\n')}
  ${'help'.padEnd(width)}show this help, or a command's: sluice help topics

Flags:
  -h, --help      show help (after a command: that command's help)
  --version       print the version

${LOG_FLAGS_HELP}

Examples:
  sluice start                          the reference system on the embedded log in ./data (Ctrl-C to stop)
  sluice topics tail anomalies          watch its anomalies from a second terminal
  sluice serve --http-port 8080          score telemetry; anomalies to the anomalies topic
  sluice models publish model.json      publish a model; serving swaps it in
  sluice topics create orders --partitions 8
  sluice topics list --backend kafka --brokers 127.0.0.1:19092`;
}

/** Runs the CLI with `argv` (the arguments after `sluice`) and resolves with the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (error) {
    return report(error);
  }
}

async function dispatch(argv: readonly string[]): Promise<number> {
  // Log connection flags may come before the command: `sluice --dir /tmp/x topics list`.
  const leading: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-')) break;
    if (arg === '-h' || arg === '--help') return help(argv[i + 1]);
    if (arg === '--version' || arg === '-v') {
      out(version());
      return 0;
    }
    const name = arg.replace(/^--/, '').split('=')[0]!;
    if (!arg.startsWith('--') || !LOG_FLAG_NAMES.includes(name)) throw new UsageError(`unknown flag ${arg.split('=')[0]}`, mainUsage());
    leading.push(arg);
    if (!arg.includes('=')) {
      const value = argv[i + 1];
      if (value === undefined) throw new UsageError(`flag ${arg} needs a value`, mainUsage());
      leading.push(value);
      i++;
    }
  }
  const name = argv[i];
  const rest = argv.slice(i + 1);
  if (name === undefined) {
    if (leading.length > 0) throw new UsageError('missing command', mainUsage());
    out(mainUsage());
    return 0;
  }
  if (name === 'help') return help(rest[0]);
  const command = findCommand(name);
  if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(name)}`, mainUsage());
  // A subcommand group's own word comes first: `sluice --dir x topics list` → `topics list --dir x`.
  const args = command === topicsCommand || command === modelsCommand || command === benchCommand ? [...rest.slice(0, 1), ...leading, ...rest.slice(1)] : [...leading, ...rest];
  return command.run(args);
}

function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

function help(topic: string | undefined): number {
  if (topic === undefined || topic.startsWith('-')) {
    out(mainUsage());
    return 0;
  }
  const command = findCommand(topic);
  if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(topic)}`, mainUsage());
  out(command.usage);
  return 0;
}

/** Prints `error` for a person and returns the exit code. */
function report(error: unknown): number {
  if (error instanceof HelpRequested) {
    out(error.usage);
    return 0;
  }
  if (error instanceof UsageError) {
    err(`${red('error')}: ${error.message}`);
    err();
    err(dim(error.usage));
    return 2;
  }
  if (isSluiceError(error)) {
    err(`${red('error')} [${error.code}]: ${error.message}`);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    err(`${red('error')}: ${message}`);
  }
  const debug = process.env.SLUICE_DEBUG;
  if (debug !== undefined && debug !== '' && debug !== '0' && error instanceof Error) err(error.stack ?? '');
  else if (!isSluiceError(error)) err(dim('(set SLUICE_DEBUG=1 to see the stack trace)'));
  return 1;
}
