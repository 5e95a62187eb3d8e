/**
 * `sluice serve`: runs a serving instance (src/serving) until SIGINT/SIGTERM, then closes it
 * cleanly (the batch in flight is finished and committed). With `--json`, stdout carries one JSON
 * object per event (`ready`, `stopped`) for programs that start instances (tests, benchmarks);
 * the service's structured log lines go to stderr.
 */
import { resolve } from 'node:path';
import type { EnsembleCombine, ServingOptions, ShadowOption } from '../serving/index.ts';
import { UsageError, choiceFlag, intFlag, expectPositionals, parseCommand, stringFlag } from './args.ts';
import type { Command } from './command.ts';
import { DATA_FLAGS, DATA_FLAGS_HELP, dataConfigFrom } from './data-flags.ts';
import { LOG_FLAGS, LOG_FLAGS_HELP, describeLog, openCliLog } from './log-flags.ts';
import { bold, count, dim, out } from './output.ts';
import { onStop } from './stop.ts';

const USAGE = `Usage: sluice serve [flags]

Scores every telemetry record with the most specific live model (device.<id>, class.<class>,
default), writes anomalies to the anomalies topic and rejected telemetry to telemetry.dlq, and
takes new models from the models topic without a restart. Runs until Ctrl-C (or SIGTERM).

Flags:
  --http-port N              port of /healthz /readyz /metrics /models (default 8080; 0: any free port)
  --http-host HOST           address to listen on (default 127.0.0.1)
  --application-id ID        consumer group shared by the serving instances (default sluice-serving)
  --instance-id ID           stable id of this instance (exactly-once fencing, logs)
  --exactly-once             one log transaction per batch (default: at-least-once)
  --partitions N             partitions of the topics serving creates (default 4)
  --max-skew-ms N            largest |event time - now| accepted, in ms (default 86400000: 24 h)
  --no-skew-check            accept any event time
  --scores TOPIC             also write every scored record to TOPIC
  --shadow NAME@V[,NAME@V]   run stored model versions as shadows of the live ones
  --ensemble max|mean|vote   score each record with several models and combine them
  --ensemble-models A,B      the members (default: every live model that applies to the record)
  --ensemble-budget-ms N     time per batch each member after the first may spend (default 5)
  --json                     print events (ready, stopped) as JSON lines
  -h, --help                 show this help

${DATA_FLAGS_HELP}

${LOG_FLAGS_HELP}

Publish a model for it to take over:  sluice models publish model.json`;

const FLAGS = {
  ...LOG_FLAGS,
  ...DATA_FLAGS,
  'http-port': { type: 'string' },
  'http-host': { type: 'string' },
  'application-id': { type: 'string' },
  'instance-id': { type: 'string' },
  'exactly-once': { type: 'boolean' },
  partitions: { type: 'string' },
  'max-skew-ms': { type: 'string' },
  'no-skew-check': { type: 'boolean' },
  scores: { type: 'string' },
  shadow: { type: 'string' },
  ensemble: { type: 'string' },
  'ensemble-models': { type: 'string' },
  'ensemble-budget-ms': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** The `serve` command. */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'score telemetry with hot-swapped models; anomalies to the anomalies topic',
  usage: USAGE,
  async run(args) {
    const parsed = parseCommand(args, FLAGS, USAGE);
    expectPositionals(parsed, [], USAGE);
    const { log: logConfig, modelsDir } = dataConfigFrom(parsed, USAGE);
    const json = parsed.values.json === true;
    if (parsed.values['no-skew-check'] === true && stringFlag(parsed, 'max-skew-ms') !== undefined) throw new UsageError('--max-skew-ms and --no-skew-check cannot be used together', USAGE);
    const ensemble = choiceFlag(parsed, 'ensemble', ['max', 'mean', 'vote'], USAGE);
    if (ensemble === undefined && (stringFlag(parsed, 'ensemble-models') !== undefined || stringFlag(parsed, 'ensemble-budget-ms') !== undefined)) {
      throw new UsageError('--ensemble-models and --ensemble-budget-ms need --ensemble max|mean|vote', USAGE);
    }
    const options: Omit<ServingOptions, 'log'> = {
      modelsDir,
      http: { host: stringFlag(parsed, 'http-host') ?? '127.0.0.1', port: intFlag(parsed, 'http-port', USAGE, { min: 0, max: 65_535 }) ?? 8080 },
      ...optional('applicationId', stringFlag(parsed, 'application-id')),
      ...optional('instanceId', stringFlag(parsed, 'instance-id')),
      ...(parsed.values['exactly-once'] === true ? { delivery: 'exactly-once' as const } : {}),
      ...optional('partitions', intFlag(parsed, 'partitions', USAGE, { min: 1, max: 10_000 })),
      ...(parsed.values['no-skew-check'] === true ? { maxSkewMs: null } : optional('maxSkewMs', intFlag(parsed, 'max-skew-ms', USAGE, { min: 0 }))),
      ...optional('topics', stringFlag(parsed, 'scores') === undefined ? undefined : { scores: stringFlag(parsed, 'scores')! }),
      ...optional('shadows', shadowsFlag(stringFlag(parsed, 'shadow'))),
      ...(ensemble === undefined
        ? {}
        : {
            ensemble: {
              combine: ensemble as EnsembleCombine,
              ...optional('models', listFlag(stringFlag(parsed, 'ensemble-models'), '--ensemble-models')),
              ...optional('budgetMs', intFlag(parsed, 'ensemble-budget-ms', USAGE, { min: 0 })),
            },
          }),
    };
    const { startServing } = await import('../serving/index.ts');
    const log = await openCliLog(logConfig);
    const stop = onStop();
    try {
      const handle = await startServing({ ...options, log });
      const models = handle.models().models.map((m) => `${m.name}@${m.version}${m.role === 'shadow' ? ' (shadow)' : ''}`);
      if (json) {
        out(JSON.stringify({ event: 'ready', instanceId: handle.instanceId, url: handle.http?.url ?? null, port: handle.http?.port ?? null, models }));
      } else {
        out(`${bold('Sluice serving')}: telemetry → anomalies through ${describeLog(logConfig)}`);
        out(`  models: ${models.length === 0 ? 'none yet (publish one: sluice models publish FILE)' : models.join(', ')} · store ${resolve(modelsDir)}`);
        out(`  ${handle.http?.url ?? ''}  (/healthz /readyz /metrics /models) · instance ${handle.instanceId} · Ctrl-C to stop`);
      }
      const failed = handle.stopped().then(
        () => null,
        (error: unknown) => error,
      );
      await Promise.race([new Promise((resolveStop) => stop.signal.addEventListener('abort', resolveStop, { once: true })), failed]);
      await handle.close();
      const m = handle.metrics();
      const dlq = Object.values(m.dlq).reduce((a, b) => a + b, 0);
      if (json) out(JSON.stringify({ event: 'stopped', instanceId: handle.instanceId, records: m.records, scored: m.scored, anomalies: m.anomalies, deadLetters: dlq }));
      else out(dim(`stopped: ${count(m.records)} records, ${count(m.scored)} scored, ${count(m.anomalies)} anomalies, ${count(dlq)} dead letters`));
      const error = await failed;
      if (error !== null) throw error;
      return 0;
    } finally {
      stop.dispose();
      await log.close();
    }
  },
};

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function listFlag(raw: string | undefined, flag: string): string[] | undefined {
  if (raw === undefined) return undefined;
  const list = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new UsageError(`${flag} needs at least one name`, USAGE);
  return list;
}

function shadowsFlag(raw: string | undefined): ShadowOption[] | undefined {
  return listFlag(raw, '--shadow')?.map((item) => {
    const m = /^(.+)@(\d+)$/.exec(item);
    if (m === null) throw new UsageError(`--shadow: ${JSON.stringify(item)} is not NAME@VERSION`, USAGE);
    return { name: m[1]!, version: Number(m[2]) };
  });
}
