/**
 * Stream benchmark: records/s of three Sluice stream jobs over the same pre-produced input topic of
 * 150-byte telemetry records (telemetryCodec, keyed by device id, ~1,000 devices), one instance
 * (one Node thread), and of the same jobs as an Apache Kafka Streams application (one stream
 * thread; bench/peers/kafka-streams) against the same broker and the same input topic:
 *   (a) map         stateless: decode → transform → encode → output topic
 *   (b) window      keyed tumbling-window aggregation per device (store + changelog), at-least-once
 *   (c) window-eos  the same in exactly-once mode (Sluice: one transaction per commit interval
 *                   of 100 ms; Kafka Streams: exactly_once_v2, commit.interval.ms 100)
 * and, only when named in --jobs, `passthrough` (bytes in, bytes out: the runtime and the log
 * alone, without codecs or user code; Sluice only), to see where a job's time goes.
 * Each job is a new application (consumer group) reading the input from the earliest offset. The
 * clock runs from `run()` (or KafkaStreams.start()) until every input record is processed and its
 * outputs acknowledged: Sluice publishes a batch on BATCH_CHANNEL once its outputs are acknowledged
 * and its offsets committed; the peer polls the group's committed offsets until they reach the
 * input's end. `startupSeconds` is the part of that before the first record was processed (group
 * join, topic setup), `processingRecordsPerSec` the rate without it.
 *
 * Usage: npx sluice bench stream [--backend embedded|kafka] [--brokers host:port] [--dir DIR]
 *          [--records 1000000] [--devices 1000] [--partitions 4] [--window-ms 60000] [--batch 1000]
 *          [--jobs map,window,window-eos[,passthrough]] [--peer auto|on|off] [--commit-ms 100] [--json]
 * The peer runs with --backend kafka (`--peer auto`); it needs java and, the first time, mvn.
 * `--commit-ms` is the commit interval of both engines (Sluice's commitIntervalMs, Kafka Streams'
 * commit.interval.ms).
 * With --json the last line of output is one JSON object with the figures. Pin the process (and so
 * the Java child) to one core with `taskset -c N` for one-core figures.
 */
import { channel } from 'node:diagnostics_channel';
import { parseArgs } from 'node:util';
import { openLog } from '../src/log/index.ts';
import type { Log, ProducerRecord } from '../src/log/index.ts';
import { BATCH_CHANNEL, RUN_DEFAULTS, run } from '../src/stream/index.ts';
import { makeInput, StreamJob, streamTopology, WINDOW_STAND_IN } from './stream-jobs.ts';
import { buildPeer, runPeer, type PeerResult } from './stream-peer.ts';
import { benchLogConfig, LOG_OPTIONS, exitOnHelp, positiveIntParser, sayer } from './args.ts';

/** Figures of one job on one engine. */
export interface JobFigures {
  readonly recordsPerSec: number;
  readonly seconds: number;
  readonly startupSeconds: number;
  readonly processingRecordsPerSec: number;
}

/** What the benchmark prints (with --json, as the last line). */
export interface StreamBenchResult {
  readonly backend: string;
  readonly records: number;
  readonly recordBytes: number;
  readonly devices: number;
  readonly partitions: number;
  readonly batch: number;
  readonly windowMs: number;
  /** True when the window job is the groupByKey().aggregate() stand-in (see bench/stream-jobs.ts). */
  readonly windowStandIn: boolean;
  readonly mapRecordsPerSec: number | null;
  readonly windowRecordsPerSec: number | null;
  readonly windowEosRecordsPerSec: number | null;
  /** Exactly-once over at-least-once records/s of the window job (target ≥ 0.75). */
  readonly eosOverAtLeastOnce: number | null;
  readonly sluice: Partial<Record<StreamJob, JobFigures>>;
  readonly kafkaStreams: Partial<Record<StreamJob, JobFigures>> | null;
  /** Sluice / Kafka Streams records/s per job (goal ≥ 1). */
  readonly ratios: Partial<Record<StreamJob, number>> | null;
}

const USAGE =
  'usage: sluice bench stream [--backend embedded|kafka] [--brokers host:port] [--dir DIR] [--records 1000000] [--devices 1000] [--partitions 4] [--window-ms 60000] [--batch 1000] [--jobs map,window,window-eos[,passthrough]] [--peer auto|on|off] [--commit-ms 100] [--json]';

const JOBS = Object.values(StreamJob);
/** The jobs run when --jobs is not given (the issue's three). */
const DEFAULT_JOBS: readonly StreamJob[] = [StreamJob.map, StreamJob.window, StreamJob.windowEos];
/** How long a job may go without committing a batch before the benchmark gives up. */
const STALL_MS = 120_000;

/** Sends the input in batches of 5,000 with 4 in flight; returns records/s. */
async function produceInput(log: Log, records: readonly ProducerRecord[]): Promise<number> {
  const producer = log.producer({ acks: 'all' });
  const start = performance.now();
  const pending = new Set<Promise<unknown>>();
  for (let i = 0; i < records.length; i += 5_000) {
    const sent = producer.send(records.slice(i, i + 5_000));
    pending.add(sent);
    void sent.then(() => pending.delete(sent));
    if (pending.size >= 4) await Promise.race(pending);
  }
  await Promise.all(pending);
  const seconds = (performance.now() - start) / 1000;
  await producer.close();
  return records.length / seconds;
}

async function topicRecords(log: Log, topic: string): Promise<number> {
  const d = await log.admin.describeTopic(topic);
  return d.partitions.reduce((n, p) => n + p.endOffset - p.startOffset, 0);
}

/** Runs one Sluice job until all `total` input records are committed; returns its figures. */
async function runSluiceJob(
  log: Log,
  job: StreamJob,
  o: { input: string; output: string; appId: string; total: number; batch: number; windowMs: number; commitMs: number },
): Promise<JobFigures> {
  const topo = streamTopology(job, o.input, o.output, o.windowMs);
  let committed = 0;
  let firstRecordAt = 0;
  let lastProgress = performance.now();
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const onBatch = (message: unknown): void => {
    const m = message as { applicationId: string; records: number; durationMs: number };
    if (m.applicationId !== o.appId) return;
    const now = performance.now();
    if (firstRecordAt === 0 && m.records > 0) firstRecordAt = now - m.durationMs;
    committed += m.records;
    lastProgress = now;
    if (committed >= o.total) done();
  };
  const ch = channel(BATCH_CHANNEL);
  ch.subscribe(onBatch);
  try {
    const start = performance.now();
    const app = await run(topo, {
      log,
      applicationId: o.appId,
      instanceId: 'bench',
      delivery: job === 'window-eos' ? 'exactly-once' : 'at-least-once',
      maxBatchRecords: o.batch,
      commitIntervalMs: o.commitMs,
    });
    const watchdog = setInterval(() => {
      if (app.state === 'failed' || performance.now() - lastProgress > STALL_MS) done();
    }, 200);
    await finished;
    clearInterval(watchdog);
    const end = performance.now();
    await app.close();
    if (app.error !== null) throw app.error;
    if (committed < o.total) throw new Error(`${job}: stalled after ${committed} of ${o.total} records`);
    const outputs = await topicRecords(log, o.output);
    if (outputs < o.total) throw new Error(`${job}: ${outputs} output records for ${o.total} inputs`);
    const seconds = (end - start) / 1000;
    const startupSeconds = (firstRecordAt - start) / 1000;
    return {
      recordsPerSec: Math.round(o.total / seconds),
      seconds: round(seconds, 3),
      startupSeconds: round(startupSeconds, 3),
      processingRecordsPerSec: Math.round(o.total / (seconds - startupSeconds)),
    };
  } finally {
    ch.unsubscribe(onBatch);
  }
}

const round = (x: number, digits = 0): number => Number(x.toFixed(digits));
const fmt = (n: number): string => Math.round(n).toLocaleString('en');

function describeFigures(name: string, f: JobFigures): string {
  return `${name.padEnd(34)} ${fmt(f.recordsPerSec).padStart(10)} records/s  (${f.seconds.toFixed(2)} s; startup ${f.startupSeconds.toFixed(2)} s, then ${fmt(f.processingRecordsPerSec)} records/s)`;
}

/** Runs the stream benchmark with command-line arguments (see the usage above). */
export async function runStreamBench(args: readonly string[]): Promise<StreamBenchResult> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      ...LOG_OPTIONS,
      records: { type: 'string', default: '1000000' },
      devices: { type: 'string', default: '1000' },
      partitions: { type: 'string', default: '4' },
      'window-ms': { type: 'string', default: '60000' },
      batch: { type: 'string', default: String(RUN_DEFAULTS.maxBatchRecords) },
      jobs: { type: 'string', default: DEFAULT_JOBS.join(',') },
      peer: { type: 'string', default: 'auto' },
      'commit-ms': { type: 'string', default: '100' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  exitOnHelp(values.help, USAGE);
  const int = positiveIntParser(USAGE);
  const total = int('records', values.records);
  const devices = int('devices', values.devices);
  const partitions = int('partitions', values.partitions);
  const windowMs = int('window-ms', values['window-ms']);
  const batch = int('batch', values.batch);
  const commitMs = int('commit-ms', values['commit-ms']);
  const jobs = values.jobs.split(',').map((j) => j.trim());
  for (const j of jobs) if (!(JOBS as string[]).includes(j)) throw new Error(`--jobs: unknown job '${j}' (jobs: ${JOBS.join(', ')})\n${USAGE}`);
  if (!['auto', 'on', 'off'].includes(values.peer)) throw new Error(`--peer must be auto, on or off, got '${values.peer}'\n${USAGE}`);
  const json = values.json;
  const say = sayer(json);
  const { config, cleanup } = benchLogConfig(values, USAGE);
  const withPeer = values.peer === 'on' || (values.peer === 'auto' && values.backend === 'kafka');
  if (withPeer && values.backend !== 'kafka') throw new Error(`--peer on needs --backend kafka (Kafka Streams runs against a Kafka broker)\n${USAGE}`);
  const jar = withPeer ? buildPeer(say) : null;

  const log = await openLog(config);
  const prefix = `bench-stream-${Date.now()}`;
  try {
    const input = `${prefix}-in`;
    await log.admin.createTopic(input, { partitions });
    const records = makeInput(input, total, devices, Date.now(), 1);
    const recordBytes = Math.round(records.reduce((n, r) => n + r.value.byteLength, 0) / total);
    const produced = await produceInput(log, records);
    records.length = 0;
    say(`backend ${values.backend}: ${fmt(total)} telemetry records (${recordBytes}-byte values, ${devices} devices) in ${partitions} partitions, produced at ${fmt(produced)} records/s`);
    say(`Sluice: one instance, batches of ${batch} records, commits every ${commitMs} ms${WINDOW_STAND_IN ? `; window = groupByKey().aggregate() stand-in for ${windowMs} ms tumbling windows` : `; window = windowedBy(TimeWindows.of(${windowMs}))`}`);

    const sluice: Partial<Record<StreamJob, JobFigures>> = {};
    for (const job of jobs as StreamJob[]) {
      const appId = `${prefix}-sluice-${job}`;
      const output = `${appId}-out`;
      await log.admin.createTopic(output, { partitions });
      sluice[job] = await runSluiceJob(log, job, { input, output, appId, total, batch, windowMs, commitMs });
      say(describeFigures(`Sluice ${job}`, sluice[job]));
    }

    let kafkaStreams: Partial<Record<StreamJob, JobFigures>> | null = null;
    let ratios: Partial<Record<StreamJob, number>> | null = null;
    if (jar !== null) {
      kafkaStreams = {};
      ratios = {};
      say(`Kafka Streams: one stream thread, commit.interval.ms ${commitMs}, max.poll.records ${batch}, in-memory window store with changelog, cache 0`);
      for (const job of jobs as StreamJob[]) {
        if (job === StreamJob.passthrough) continue;
        const appId = `${prefix}-ks-${job}`;
        const output = `${appId}-out`;
        await log.admin.createTopic(output, { partitions });
        const r: PeerResult = await runPeer(jar, { brokers: values.brokers, input, output, job, appId, windowMs, commitMs, maxPollRecords: batch });
        if (r.records !== total) throw new Error(`Kafka Streams ${job} saw ${r.records} input records, expected ${total}`);
        kafkaStreams[job] = { recordsPerSec: r.recordsPerSec, seconds: r.seconds, startupSeconds: r.startupSeconds, processingRecordsPerSec: r.processingRecordsPerSec };
        say(describeFigures(`Kafka Streams ${job}`, kafkaStreams[job]));
        ratios[job] = round(sluice[job]!.recordsPerSec / r.recordsPerSec, 2);
        say(`  Sluice / Kafka Streams ${job}: ${ratios[job]} (processing only: ${round(sluice[job]!.processingRecordsPerSec / r.processingRecordsPerSec, 2)})`);
      }
    }

    const rate = (job: StreamJob): number | null => sluice[job]?.recordsPerSec ?? null;
    const alo = rate('window');
    const eos = rate('window-eos');
    const result: StreamBenchResult = {
      backend: values.backend,
      records: total,
      recordBytes,
      devices,
      partitions,
      batch,
      windowMs,
      windowStandIn: WINDOW_STAND_IN,
      mapRecordsPerSec: rate('map'),
      windowRecordsPerSec: alo,
      windowEosRecordsPerSec: eos,
      eosOverAtLeastOnce: alo !== null && eos !== null ? round(eos / alo, 2) : null,
      sluice,
      kafkaStreams,
      ratios,
    };
    if (result.eosOverAtLeastOnce !== null) say(`exactly-once / at-least-once (window): ${result.eosOverAtLeastOnce}`);
    for (const t of await log.admin.listTopics()) if (t.startsWith(prefix)) await log.admin.deleteTopic(t).catch(() => {});
    if (json) console.log(JSON.stringify(result));
    return result;
  } finally {
    await log.close();
    cleanup();
  }
}

if (import.meta.main) {
  runStreamBench(process.argv.slice(2)).catch((error: unknown) => {
    console.error((error as Error).stack ?? (error as Error).message);
    process.exit(1);
  });
}
