/**
 * `sluice start`: for now a live demo of the log. It creates the `telemetry` topic if missing,
 * produces simulated device telemetry (keyed by device id, binary telemetry codec or JSON) at a
 * steady rate, consumes it in a consumer group, and prints one compact line per second until
 * Ctrl-C or `--duration`, then a summary.
 */
import { isSluiceError } from '../errors.ts';
import { resolve } from 'node:path';
import { DEFAULT_EMBEDDED_DIR, DEFAULT_TEST_BROKER, jsonCodec, telemetryCodec, type Codec, type Consumer, type Log, type LogConfig, type Producer, type Telemetry } from '../log/index.ts';
import { choiceFlag, intFlag, numberFlag, parseCommand, stringFlag, UsageError } from './args.ts';
import type { Command } from './command.ts';
import { DemoFleet } from './demo-fleet.ts';
import { LOG_FLAGS, LOG_FLAGS_HELP, describeLog, logConfigFrom, openCliLog } from './log-flags.ts';
import { bold, count, dim, duration, out } from './output.ts';
import { onStop, pause } from './stop.ts';

/** Defaults of `sluice start`. */
export const START_DEFAULTS = {
  topic: 'telemetry',
  partitions: 4,
  rate: 50,
  devices: 8,
  group: 'sluice-demo',
  codec: 'telemetry',
  /** How long the consumer may catch up after the producer stops. */
  drainMs: 3_000,
} as const;

const USAGE = `Usage: sluice start [flags]

Runs the demo: simulated device telemetry is produced to a topic and consumed in a consumer
group, with one status line per second. Stops on Ctrl-C (or after --duration) and prints a summary.

Flags:
  --rate N             records per second to produce (default ${START_DEFAULTS.rate})
  --duration SECONDS   stop by itself after this long (default: run until Ctrl-C)
  --devices N          number of simulated devices (default ${START_DEFAULTS.devices})
  --topic NAME         topic to use (default ${START_DEFAULTS.topic})
  --partitions N       partitions when the topic is created (default ${START_DEFAULTS.partitions})
  --group ID           consumer group (default ${START_DEFAULTS.group})
  --codec telemetry|json  record encoding (default ${START_DEFAULTS.codec})
  -h, --help           show this help

${LOG_FLAGS_HELP}

Watch the records from another terminal:  npx sluice topics tail telemetry`;

/** The `start` command. */
export const startCommand: Command = {
  name: 'start',
  summary: 'run the demo: simulated telemetry produced and consumed through the log',
  usage: USAGE,
  async run(args) {
    const parsed = parseCommand(
      args,
      {
        ...LOG_FLAGS,
        rate: { type: 'string' },
        duration: { type: 'string' },
        devices: { type: 'string' },
        topic: { type: 'string' },
        partitions: { type: 'string' },
        group: { type: 'string' },
        codec: { type: 'string' },
      },
      USAGE,
    );
    if (parsed.help) {
      out(USAGE);
      return 0;
    }
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[0])}`, USAGE);
    const options: DemoOptions = {
      log: logConfigFrom(parsed, USAGE),
      rate: numberFlag(parsed, 'rate', USAGE) ?? START_DEFAULTS.rate,
      durationMs: secondsToMs(numberFlag(parsed, 'duration', USAGE)),
      devices: intFlag(parsed, 'devices', USAGE, { min: 1, max: 10_000 }) ?? START_DEFAULTS.devices,
      topic: stringFlag(parsed, 'topic') ?? START_DEFAULTS.topic,
      partitions: intFlag(parsed, 'partitions', USAGE, { min: 1, max: 10_000 }),
      group: stringFlag(parsed, 'group') ?? START_DEFAULTS.group,
      codec: choiceFlag(parsed, 'codec', ['telemetry', 'json'], USAGE) ?? START_DEFAULTS.codec,
    };
    if (options.rate > 100_000) throw new UsageError(`--rate must be at most 100000 records/s for the demo, got ${options.rate}`, USAGE);
    if (options.group === '') throw new UsageError('--group must not be empty', USAGE);
    return runDemo(options);
  },
};

function secondsToMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : Math.round(seconds * 1_000);
}

interface DemoOptions {
  readonly log: LogConfig;
  readonly rate: number;
  readonly durationMs: number | undefined;
  readonly devices: number;
  readonly topic: string;
  readonly partitions: number | undefined;
  readonly group: string;
  readonly codec: 'telemetry' | 'json';
}

/** Counters shared by the producer, the consumer and the reporter. */
interface Stats {
  produced: number;
  consumed: number;
  readonly perPartition: number[];
  sample: Telemetry | undefined;
  sampleFailure: string | undefined;
}

async function runDemo(options: DemoOptions): Promise<number> {
  const log = await openCliLog(options.log);
  const stop = onStop({ durationMs: options.durationMs });
  const started = performance.now();
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;
  const stats: Stats = { produced: 0, consumed: 0, perPartition: [], sample: undefined, sampleFailure: undefined };
  try {
    const { partitions, created } = await ensureTopic(log, options);
    stats.perPartition.push(...new Array<number>(partitions).fill(0));
    const codec: Codec<Telemetry> = options.codec === 'telemetry' ? telemetryCodec : jsonCodec<Telemetry>();
    out(`${bold('Sluice demo')}: simulated device telemetry through ${describeLog(options.log)}`);
    out(`  topic ${options.topic}: ${partitions} partitions (${created ? 'created now' : 'already there'}), codec ${options.codec}, consumer group ${options.group}`);
    const until = options.durationMs === undefined ? 'Ctrl-C to stop' : `stops after ${duration(options.durationMs)} (or Ctrl-C)`;
    out(`  ${options.devices} devices, ${options.rate} records/s · ${until}`);
    out(dim(`  watch it from another terminal: npx sluice topics tail ${options.topic}${connectionArgs(options.log)}`));
    out();

    producer = log.producer({ acks: 'all' });
    consumer = log.consumer({ groupId: options.group, autoOffsetReset: 'earliest' });
    await consumer.subscribe([options.topic]);
    const fleet = new DemoFleet({ devices: options.devices, seed: Date.now() });

    // The loops share one halt signal: Ctrl-C, --duration or the first failure stops them all.
    const halt = new AbortController();
    stop.signal.addEventListener('abort', () => halt.abort(stop.signal.reason), { once: true });
    const consumeStop = new AbortController();
    let failure: { error: unknown } | undefined;
    const fail = (error: unknown): void => {
      failure ??= { error };
      halt.abort('error');
      consumeStop.abort();
    };
    const c = consumer;
    const producingSince = performance.now();
    const produceDone = produceLoop(producer, fleet, codec, options, stats, halt.signal).catch(fail);
    const consumeDone = consumeLoop(c, codec, stats, consumeStop.signal).catch(fail);
    const reporter = new Reporter(c, stats, partitions, started);
    reporter.header();
    const reportDone = reporter.loop(halt.signal).catch(fail);
    await produceDone;
    const producing = performance.now() - producingSince;
    // Let the consumer catch up with what was produced before stopping it.
    const drainUntil = performance.now() + START_DEFAULTS.drainMs;
    while (failure === undefined && performance.now() < drainUntil) {
      if ((await totalLag(c).catch(() => 0)) === 0) break;
      await pause(50, consumeStop.signal);
    }
    consumeStop.abort();
    await Promise.all([consumeDone, reportDone]);
    if (failure !== undefined) throw failure.error;
    await reporter.line();
    await c.commit().catch(() => undefined);

    const elapsed = performance.now() - started;
    const stored = await storedRecords(log, options.topic);
    const reason = stop.signal.reason;
    const why = `${reason === 'SIGINT' ? 'on Ctrl-C ' : reason === 'SIGTERM' ? 'on SIGTERM ' : ''}after ${duration(elapsed)}`;
    out();
    out(
      `summary: stopped ${why}: produced ${stats.produced} records, consumed ${stats.consumed} records ` +
        `(${(stats.produced / (producing / 1_000)).toFixed(1)} records/s); topic ${options.topic} holds ${stored} records`,
    );
    if (stats.sampleFailure !== undefined) out(`note: some records could not be decoded: ${stats.sampleFailure}`);
    return 0;
  } finally {
    stop.dispose();
    await consumer?.close().catch(() => undefined);
    await producer?.close().catch(() => undefined);
    await log.close();
  }
}

/** The connection flags that reach the same log from another terminal ('' for the defaults). */
function connectionArgs(config: LogConfig): string {
  if (config.backend === 'kafka') return config.brokers.join(',') === DEFAULT_TEST_BROKER ? ' --backend kafka' : ` --brokers ${config.brokers.join(',')}`;
  const dir = config.dir ?? DEFAULT_EMBEDDED_DIR;
  return resolve(dir) === resolve(DEFAULT_EMBEDDED_DIR) ? '' : ` --dir ${/^[\w./-]+$/.test(dir) ? dir : JSON.stringify(dir)}`;
}

/** Creates the topic unless it exists; returns its partition count. */
async function ensureTopic(log: Log, options: DemoOptions): Promise<{ partitions: number; created: boolean }> {
  const wanted = options.partitions ?? START_DEFAULTS.partitions;
  try {
    await log.admin.createTopic(options.topic, { partitions: wanted });
    return { partitions: wanted, created: true };
  } catch (error) {
    if (!isSluiceError(error, 'SLUICE_LOG_TOPIC_EXISTS')) throw error;
  }
  const existing = (await log.admin.describeTopic(options.topic)).config.partitions;
  if (options.partitions !== undefined && options.partitions !== existing) {
    out(dim(`note: topic ${options.topic} already exists with ${existing} partitions; --partitions ${options.partitions} is ignored`));
  }
  return { partitions: existing, created: false };
}

const encoder = new TextEncoder();
const TICK_MS = 100;

/** Sends what is due every tick so that the average rate is `options.rate`. */
async function produceLoop(producer: Producer, fleet: DemoFleet, codec: Codec<Telemetry>, options: DemoOptions, stats: Stats, signal: AbortSignal): Promise<void> {
  const t0 = performance.now();
  while (!signal.aborted) {
    const due = Math.floor(((performance.now() - t0) / 1_000) * options.rate) - stats.produced;
    // After a stall (a busy disk, a suspended laptop) do not burst more than a second's worth.
    const n = Math.min(due, Math.max(1, Math.ceil(options.rate)));
    if (n > 0) {
      const now = Date.now();
      const records = Array.from({ length: n }, () => {
        const t = fleet.next(now);
        return { topic: options.topic, key: encoder.encode(t.deviceId), value: codec.encode(t), timestamp: t.ts };
      });
      await producer.send(records);
      stats.produced += n;
    }
    await pause(TICK_MS, signal);
  }
}

/** Polls in the group, counts per partition, keeps a sample record and commits each batch. */
async function consumeLoop(consumer: Consumer, codec: Codec<Telemetry>, stats: Stats, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const batch = await consumer.poll({ timeoutMs: 200 });
    if (batch.length === 0) continue;
    for (const r of batch) {
      stats.perPartition[r.partition] = (stats.perPartition[r.partition] ?? 0) + 1;
    }
    stats.consumed += batch.length;
    try {
      stats.sample = codec.decode(batch[batch.length - 1]!.value);
    } catch (error) {
      stats.sampleFailure = error instanceof Error ? error.message : String(error);
    }
    await consumer.commit();
  }
}

async function totalLag(consumer: Consumer): Promise<number> {
  return (await consumer.lag()).reduce((sum, p) => sum + p.lag, 0);
}

async function storedRecords(log: Log, topic: string): Promise<number> {
  const d = await log.admin.describeTopic(topic);
  return d.partitions.reduce((sum, p) => sum + (p.endOffset - p.startOffset), 0);
}

/** The status table: a header, then one line per second (and a last one when stopping). */
class Reporter {
  readonly #consumer: Consumer;
  readonly #stats: Stats;
  readonly #partitions: number;
  readonly #started: number;
  #last: number[];

  constructor(consumer: Consumer, stats: Stats, partitions: number, started: number) {
    this.#consumer = consumer;
    this.#stats = stats;
    this.#partitions = partitions;
    this.#started = started;
    this.#last = new Array<number>(partitions).fill(0);
  }

  header(): void {
    const parts = this.#partitions <= 8 ? Array.from({ length: this.#partitions }, (_, i) => `p${i}`.padStart(5)).join('') : ' records/s per partition';
    fit(dim(`  elapsed  produced  consumed    lag${parts}   last record consumed`));
  }

  /** Prints one line per second until `signal` aborts. */
  async loop(signal: AbortSignal): Promise<void> {
    for (let tick = 1; !signal.aborted; tick++) {
      await pause(this.#started + tick * 1_000 - performance.now(), signal);
      if (!signal.aborted) await this.line();
    }
  }

  async line(): Promise<void> {
    const s = this.#stats;
    let lag = '?';
    try {
      lag = count(await totalLag(this.#consumer));
    } catch {
      // A rebalance in progress: show '?' this time.
    }
    const delta = s.perPartition.map((n, i) => n - (this.#last[i] ?? 0));
    this.#last = [...s.perPartition];
    const parts = this.#partitions <= 8 ? delta.map((n) => String(n).padStart(5)).join('') : ` ${Math.min(...delta)}–${Math.max(...delta)}`.padEnd(24);
    const elapsed = clock(performance.now() - this.#started);
    fit(`  ${elapsed.padStart(7)} ${count(s.produced).padStart(9)} ${count(s.consumed).padStart(9)} ${lag.padStart(6)}${parts}   ${sampleText(s.sample)}`);
  }
}

/** Prints a line, cut to the terminal's width so that it never wraps. */
function fit(line: string): void {
  const columns = process.stdout.isTTY ? process.stdout.columns : undefined;
  // Cutting a line with colour codes could leave the colour on: cut only plain text.
  out(columns !== undefined && line.length > columns && !line.includes('\u001b') ? `${line.slice(0, columns - 1)}…` : line);
}

/** `m:ss` of an elapsed time. */
function clock(ms: number): string {
  const s = Math.round(ms / 1_000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function sampleText(t: Telemetry | undefined): string {
  if (t === undefined) return '–';
  const metrics = Object.entries(t.metrics)
    .map(([k, v]) => `${ABBREVIATIONS[k] ?? k} ${v}`)
    .join(' ');
  return `${t.deviceId} #${t.seq ?? '-'} ${metrics}`;
}

const ABBREVIATIONS: Record<string, string> = { temperature: 'temp', vibration: 'vib', pressure: 'press', rpm: 'rpm' };
