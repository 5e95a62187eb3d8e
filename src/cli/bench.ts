/**
 * `sluice bench <suite>`: benchmark programs. `bench log` hands its arguments to the log benchmark
 * (src/cli/bench-log.ts), `bench models` to the detector benchmark (src/cli/bench-models.ts); both
 * are loaded only when asked for.
 */
import { ErrorCode, SluiceError } from '../errors.ts';
import { UsageError } from './args.ts';
import type { Command } from './command.ts';
import { out } from './output.ts';

const USAGE = `Usage: sluice bench <suite> [flags]

Suites:
  log        produce/consume throughput and latency of a log backend
             (flags: sluice bench log --help)
  models     detector scoring throughput (flags: --records N, --runs N, --json)`;

/**
 * Module of the log benchmark, relative to this file: `.ts` in the repository, `.js` in the compiled
 * package. A computed specifier, so that it loads only on demand.
 */
const BENCH_LOG_MODULE = import.meta.url.endsWith('.ts') ? './bench-log.ts' : './bench-log.js';

/** The `bench` command group. */
export const benchCommand: Command = {
  name: 'bench',
  summary: 'run a benchmark (bench log: the log; bench models: the detectors)',
  usage: USAGE,
  async run(args) {
    const [suite, ...rest] = args;
    if (suite === undefined) throw new UsageError('missing benchmark suite', USAGE);
    if (suite === '--help' || suite === '-h' || suite === 'help') {
      out(USAGE);
      return 0;
    }
    if (suite === 'models') {
      const { runModelsBench } = await import('./bench-models.ts');
      await runModelsBench(rest);
      return typeof process.exitCode === 'number' ? process.exitCode : 0;
    }
    if (suite !== 'log') {
      throw new UsageError(suite.startsWith('-') ? `unknown flag ${suite} (flags go after the suite)` : `unknown benchmark suite ${JSON.stringify(suite)}`, USAGE);
    }
    const bench = await loadLogBench();
    await bench.runLogBench(rest);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  },
};

async function loadLogBench(): Promise<{ runLogBench(args: string[]): Promise<void> }> {
  let mod: { runLogBench?: unknown };
  try {
    mod = (await import(BENCH_LOG_MODULE)) as { runLogBench?: unknown };
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes('bench-log')) {
      throw new SluiceError(ErrorCode.INVALID_ARGUMENT, 'the log benchmark is not part of this build yet (src/cli/bench-log.ts is missing)', { cause: error });
    }
    throw error;
  }
  if (typeof mod.runLogBench !== 'function') {
    throw new SluiceError(ErrorCode.INVALID_ARGUMENT, 'src/cli/bench-log.ts does not export runLogBench(args)');
  }
  return mod as { runLogBench(args: string[]): Promise<void> };
}
