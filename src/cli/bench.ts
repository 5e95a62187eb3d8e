/**
 * `sluice bench <suite>`: the benchmark programs of bench/ (`bench/<suite>.ts`, each exporting
 * `run<Suite>Bench(args)`), loaded on demand. They live outside src/, so they run from a source
 * checkout only; the published package says so instead of failing obscurely.
 */
import { ErrorCode, SluiceError } from '../errors.ts';
import { UsageError } from './args.ts';
import type { Command } from './command.ts';
import { out } from './output.ts';

/** Each suite's program in bench/ and the function it exports. */
const SUITES = {
  log: { file: 'log.ts', run: 'runLogBench', summary: 'produce/consume throughput and latency of a log backend' },
  models: { file: 'models.ts', run: 'runModelsBench', summary: 'detector scoring throughput, fit time and state size' },
  stream: { file: 'stream.ts', run: 'runStreamBench', summary: 'stream jobs (map, window, exactly-once) vs Kafka Streams' },
  training: { file: 'training.ts', run: 'runTrainingBench', summary: 'training run time and event-loop stalls, worker thread vs calling thread' },
  pipeline: { file: 'pipeline.ts', run: 'runPipelineBench', summary: 'serving on one core: throughput, hot swap vs redeploy, end-to-end latency' },
  'core-stalls': { file: 'core-stalls.ts', run: 'runCoreStalls', summary: 'how often the machine itself stops a core (pin it: taskset -c N)' },
  'round-ceiling': { file: 'round-ceiling.ts', run: 'runRoundCeiling', summary: 'the p99 an ideal one-core server reaches here on rounds of work (pin it)' },
  'paced-append': { file: 'paced-append.ts', run: 'runPacedAppend', summary: "what one small append at a time costs the process's threads (pin it)" },
} as const;

const USAGE = `Usage: sluice bench <suite> [flags]      (sluice bench <suite> --help for its flags)

Suites:
${Object.entries(SUITES)
  .map(([name, s]) => `  ${name.padEnd(13)}  ${s.summary}`)
  .join('\n')}`;

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
    if (!Object.hasOwn(SUITES, suite)) {
      throw new UsageError(suite.startsWith('-') ? `unknown flag ${suite} (flags go after the suite)` : `unknown benchmark suite ${JSON.stringify(suite)}`, USAGE);
    }
    const { file, run } = SUITES[suite as keyof typeof SUITES];
    const url = new URL(`../../bench/${file}`, import.meta.url);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(url.href)) as Record<string, unknown>;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(file)) {
        throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `the ${suite} benchmark runs from a source checkout only (bench/${file} is not in this build)`, { cause: error });
      }
      throw error;
    }
    await (mod[run] as (args: readonly string[]) => Promise<unknown>)(rest);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  },
};
