/**
 * The reference system of `sluice start`, in one process on one log:
 *
 *   simulated fleet ──▶ [telemetry] ──▶ serving ──▶ [anomalies] ──▶ this terminal
 *                            │              ▲
 *                            ▼              │
 *                   trainer (worker) ──▶ [models] + model store
 *
 * The producer sends the fleet's readings at a steady rate; once `trainAfter` records were produced
 * the trainer fits the first models per device class (on a worker thread) and publishes them, then
 * again every `retrainEveryMs`; serving (startServing) scores every record with the live models
 * and writes anomalies; once models serve, an anomaly is injected into one device now and then, and
 * each reported anomaly is matched to the injection it reveals. One status line per second, one
 * line per event, and a summary when stopped (Ctrl-C, SIGTERM, `durationMs`, or a failure).
 */
import { resolve } from 'node:path';
import { ErrorCode, SluiceError, isSluiceError } from '../errors.ts';
import { DEFAULT_EMBEDDED_DIR, DEFAULT_TEST_BROKER, ensureTopic, telemetryCodec, type Log, type LogConfig, type Producer } from '../log/index.ts';
import { ModelStore, type DeciderOptions } from '../model/index.ts';
import { jsonLinesLogger, startServing, type ScoredRecord, type ServingHandle } from '../serving/index.ts';
import { trainOnce } from '../training/index.ts';
import { DemoFleet } from './demo-fleet.ts';
import { AnomalyInjector } from './demo-injector.ts';
import { describeLog, openCliLog } from './log-flags.ts';
import { bold, count, dim, duration, out } from './output.ts';
import { AnomalyReader, InjectionTracker } from './start-anomalies.ts';
import { anomalyLine, injectionLine, statusHeader, statusLine, trainingDoneLine, trainingStartLine } from './start-status.ts';
import { pause } from '../util/pause.ts';
import { onStop } from './stop.ts';

/** What `sluice start` runs with (the command fills in the defaults). */
export interface StartOptions {
  readonly log: LogConfig;
  readonly modelsDir: string;
  readonly rate: number;
  readonly durationMs: number | undefined;
  readonly devices: number;
  readonly topic: string;
  readonly partitions: number;
  /** null: the default port, or any free port when it is busy. */
  readonly httpPort: number | null;
  readonly detector: string;
  /** Records produced before the first training run. */
  readonly trainAfter: number;
  /** Time between training runs once models serve; null: train only until the first models serve. */
  readonly retrainEveryMs: number | null;
  /** Each run trains on the telemetry of this much time before it. */
  readonly trainWindowMs: number;
  /** Mean time between injected anomalies; null: none. */
  readonly anomalyEveryMs: number | null;
  readonly seed: number;
}

/** Fixed settings of the reference system. */
const SYSTEM = {
  defaultHttpPort: 8080,
  anomaliesTopic: 'anomalies',
  /** How long serving may catch up with what was produced after the producer stops. */
  drainMs: 5_000,
  produceTickMs: 100,
} as const;

/**
 * How serving turns scores into decisions here. robust-zscore's score is itself calibrated (0.5 for
 * a 1-in-1,000 observation), so it is thresholded directly: alarms at 0.7 (about 1 in 10^7), after
 * 20 scores per device. The other detectors keep the likelihood calibration, with a warm-up of 60
 * scores per device instead of serving's 300 (minutes at the demo's rates).
 */
function deciderFor(detector: string): DeciderOptions {
  return detector === 'robust-zscore' ? { calibration: 'none', high: 0.7, low: 0.5, warmup: 20 } : { warmup: 60 };
}

/** Counters shared by the loops and the reporter. */
interface Totals {
  produced: number;
  anomalies: number;
  published: number;
  trainingRuns: number;
  badAnomalies: number;
}

/** Runs the reference system until stopped; resolves with the exit code. */
export async function runStart(o: StartOptions): Promise<number> {
  const log = await openCliLog(o.log);
  const stop = onStop({ durationMs: o.durationMs });
  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  let producer: Producer | undefined;
  let serving: ServingHandle | undefined;
  let reader: AnomalyReader | undefined;
  try {
    const topic = await ensureTelemetryTopic(log, o);
    const wallStart = Date.now();
    serving = await startServingOn(log, o);
    reader = await AnomalyReader.open(log, SYSTEM.anomaliesTopic, wallStart);
    const handle = serving;
    printHeader(o, handle, topic);

    const totals: Totals = { produced: 0, anomalies: 0, published: 0, trainingRuns: 0, badAnomalies: 0 };
    const fleet = new DemoFleet({ devices: o.devices, seed: o.seed });
    const injector = o.anomalyEveryMs === null ? null : new AnomalyInjector({ fleet, everyMs: o.anomalyEveryMs, seed: o.seed + 1 });
    const tracker = new InjectionTracker();
    const liveModels = (): string[] => handle.models().models.filter((m) => m.role === 'live').map((m) => `${m.name}@${m.version}`);

    // Every loop stops on `halt`: Ctrl-C, --duration or the first failure.
    const halt = new AbortController();
    stop.signal.addEventListener('abort', () => halt.abort(stop.signal.reason), { once: true });
    const readerStop = new AbortController();
    let failure: { error: unknown } | undefined;
    const fail = (error: unknown): void => {
      failure ??= { error };
      halt.abort('error');
      readerStop.abort();
    };
    producer = log.producer({ acks: 'all' });
    const p = producer;
    const produceDone = (async () => {
      const t0 = performance.now();
      while (!halt.signal.aborted) {
        if (injector !== null && liveModels().length > 0) injector.arm(performance.now());
        const injected = injector?.due(performance.now()) ?? null;
        if (injected !== null) {
          tracker.add(injected);
          out(injectionLine(elapsed(), injected));
        }
        // Send what is due so that the average rate is o.rate; after a stall, no more than a second's worth.
        const due = Math.floor(((performance.now() - t0) / 1_000) * o.rate) - totals.produced;
        const n = Math.min(due, Math.max(1, Math.ceil(o.rate)));
        if (n > 0) {
          const now = Date.now();
          const records = Array.from({ length: n }, () => {
            const t = fleet.next(now);
            return { topic: o.topic, key: encoder.encode(t.deviceId), value: telemetryCodec.encode(t), timestamp: t.ts };
          });
          await p.send(records);
          totals.produced += n;
        }
        await pause(SYSTEM.produceTickMs, halt.signal);
      }
    })().catch(fail);
    const trainDone = trainLoop(log, o, totals, liveModels, elapsed, halt.signal).catch(fail);
    const readDone = reader
      .run(
        readerStop.signal,
        (a: ScoredRecord) => {
          totals.anomalies++;
          out(anomalyLine(elapsed(), a, tracker.match(a)));
        },
        () => totals.badAnomalies++,
      )
      .catch(fail);
    const waiting = `none yet: first training after ${count(o.trainAfter)} records`;
    out();
    out(statusHeader());
    const reportDone = reportLoop(handle, totals, liveModels, waiting, started, halt.signal).catch(fail);
    const servingFailed = handle.stopped().then(() => {
      if (!halt.signal.aborted) fail(new SluiceError(ErrorCode.STREAM_CLOSED, 'serving stopped by itself'));
    }, fail);

    await Promise.all([produceDone, trainDone]);
    // Let serving score what was produced, and the reader print what it reported, before closing.
    const drainUntil = performance.now() + SYSTEM.drainMs;
    while (failure === undefined && performance.now() < drainUntil && seen(handle) < totals.produced) await pause(50, readerStop.signal);
    if (failure === undefined) await pause(400, readerStop.signal);
    readerStop.abort();
    await Promise.all([readDone, reportDone]);
    await handle.close();
    await servingFailed;
    if (failure !== undefined) throw failure.error;

    printSummary(o, handle, totals, tracker, stop.signal.reason, elapsed());
    return 0;
  } finally {
    stop.dispose();
    await reader?.close().catch(() => undefined);
    await serving?.close().catch(() => undefined);
    await producer?.close().catch(() => undefined);
    await log.close();
  }
}

const encoder = new TextEncoder();

/** Telemetry records serving has taken so far (valid or dead-lettered). */
function seen(handle: ServingHandle): number {
  const m = handle.metrics();
  return m.records + Object.values(m.dlq).reduce((a, b) => a + b, 0);
}

/** Creates the telemetry topic unless it exists; its partitions, and whether it was created now. */
async function ensureTelemetryTopic(log: Log, o: StartOptions): Promise<{ readonly partitions: number; readonly created: boolean }> {
  if (await ensureTopic(log.admin, o.topic, { partitions: o.partitions })) return { partitions: o.partitions, created: true };
  return { partitions: (await log.admin.describeTopic(o.topic)).config.partitions, created: false };
}

/** Starts serving; a busy default port falls back to any free one, a busy chosen port is an error. */
async function startServingOn(log: Log, o: StartOptions): Promise<ServingHandle> {
  const start = (port: number): Promise<ServingHandle> =>
    startServing({
      log,
      modelsDir: o.modelsDir,
      topics: { telemetry: o.topic, anomalies: SYSTEM.anomaliesTopic },
      partitions: o.partitions,
      http: { port },
      decider: deciderFor(o.detector),
      // Warnings (a rejected model) and errors only: the terminal is for the status lines.
      logger: jsonLinesLogger({ minLevel: 'warn' }),
    });
  const port = o.httpPort ?? SYSTEM.defaultHttpPort;
  try {
    return await start(port);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EADDRINUSE' || port === 0) throw error;
    if (o.httpPort !== null) {
      throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `--http-port ${port}: the port is in use; choose another (0: any free port)`, { cause: error });
    }
    const handle = await start(0);
    out(dim(`note: port ${port} is in use; serving's HTTP endpoint listens on port ${handle.http?.port ?? '?'} instead (--http-port to choose)`));
    return handle;
  }
}

function printHeader(o: StartOptions, handle: ServingHandle, topic: { readonly partitions: number; readonly created: boolean }): void {
  const url = handle.http?.url ?? '';
  const until = o.durationMs === undefined ? 'Ctrl-C to stop' : `stops after ${duration(o.durationMs)} (or Ctrl-C)`;
  out(`${bold('Sluice')}: simulated fleet → ${o.topic} → serving → ${SYSTEM.anomaliesTopic}, models trained in the background`);
  out(`  data      ${describeLog(o.log)}; model store ${resolve(o.modelsDir)}`);
  out(`  fleet     ${o.devices} devices, ${o.rate} records/s into ${o.topic} (${topic.partitions} partitions${topic.created ? ', created now' : ''}); ${until}`);
  const retrain = o.retrainEveryMs === null ? 'no retraining' : `retrained every ${duration(o.retrainEveryMs)}`;
  out(`  training  ${o.detector} per device class after ${count(o.trainAfter)} records, ${retrain}, on the last ${duration(o.trainWindowMs)} of telemetry`);
  out(`  anomalies ${o.anomalyEveryMs === null ? 'none injected' : `one injected about every ${duration(o.anomalyEveryMs)} once models serve`}`);
  out(`  HTTP      ${url}/models  ${url}/metrics`);
  out(dim(`  watch     npx sluice topics tail ${SYSTEM.anomaliesTopic}${connectionArgs(o.log)}`));
}

/** Trains after `trainAfter` records, again after as many more until models serve, then every `retrainEveryMs`. */
async function trainLoop(log: Log, o: StartOptions, totals: Totals, liveModels: () => string[], elapsed: () => number, signal: AbortSignal): Promise<void> {
  const store = new ModelStore({ dir: o.modelsDir });
  let nextRecords = o.trainAfter;
  let nextAt = Number.POSITIVE_INFINITY;
  while (!signal.aborted) {
    if (totals.produced < nextRecords && performance.now() < nextAt) {
      await pause(200, signal);
      continue;
    }
    const run = ++totals.trainingRuns;
    out(trainingStartLine(elapsed(), run, `fitting ${o.detector} per device class on a worker thread`));
    try {
      const report = await trainOnce({ log, store, signal }, { detector: o.detector, per: 'class', topic: o.topic, range: { by: 'last', ms: o.trainWindowMs } });
      totals.published += report.published;
      out(trainingDoneLine(elapsed(), run, report));
    } catch (error) {
      if (isSluiceError(error, ErrorCode.TRAINING_ABORTED)) return;
      if (!isSluiceError(error)) throw error;
      out(`  * training #${run} failed [${error.code}]: ${error.message}`);
    }
    // Until a model serves, try again after as many new records; then on the schedule.
    const serving = totals.published > 0 || liveModels().length > 0;
    nextRecords = serving ? Number.POSITIVE_INFINITY : totals.produced + o.trainAfter;
    nextAt = serving && o.retrainEveryMs !== null ? performance.now() + o.retrainEveryMs : Number.POSITIVE_INFINITY;
    if (serving && o.retrainEveryMs === null) return;
  }
}

/** One status line per second until `signal` aborts, and a last one then. */
async function reportLoop(handle: ServingHandle, totals: Totals, liveModels: () => string[], waiting: string, started: number, signal: AbortSignal): Promise<void> {
  let last = { produced: 0, scored: 0 };
  const line = (): void => {
    const m = handle.metrics();
    out(
      statusLine({
        elapsedMs: performance.now() - started,
        telemetryPerSec: totals.produced - last.produced,
        scoredPerSec: m.scored - last.scored,
        anomalies: totals.anomalies,
        deadLetters: Object.values(m.dlq).reduce((a, b) => a + b, 0),
        models: liveModels(),
        waiting,
      }),
    );
    last = { produced: totals.produced, scored: m.scored };
  };
  let next = performance.now() + 1_000;
  while (!signal.aborted) {
    await pause(Math.max(0, next - performance.now()), signal);
    if (signal.aborted) break;
    line();
    // One line per second; after a stall (a slow broker, a suspended laptop), no burst of lines.
    next = Math.max(next + 1_000, performance.now() + 500);
  }
}

function printSummary(o: StartOptions, handle: ServingHandle, totals: Totals, tracker: InjectionTracker, reason: unknown, elapsedMs: number): void {
  const m = handle.metrics();
  const dlq = Object.values(m.dlq).reduce((a, b) => a + b, 0);
  const why = reason === 'SIGINT' ? 'on Ctrl-C ' : reason === 'SIGTERM' ? 'on SIGTERM ' : '';
  const models = handle.models().models.filter((x) => x.role === 'live').map((x) => `${x.name}@${x.version}`);
  out();
  out(`summary: stopped ${why}after ${duration(elapsedMs)}`);
  out(`  telemetry  ${count(totals.produced)} records produced, ${count(m.scored)} scored, ${count(m.unrouted)} passed over before a model served, ${count(dlq)} dead letters`);
  out(`  anomalies  ${count(totals.anomalies)} reported; injected anomalies detected: ${tracker.detected} of ${tracker.total}`);
  out(`  models     ${count(totals.published)} published in ${totals.trainingRuns} training run${totals.trainingRuns === 1 ? '' : 's'}; serving ${models.length === 0 ? 'none' : models.join(' ')}`);
  if (totals.badAnomalies > 0) out(`note: ${totals.badAnomalies} records of ${SYSTEM.anomaliesTopic} could not be decoded`);
  out(dim(`  the records stay in the log: npx sluice topics tail ${SYSTEM.anomaliesTopic} --from earliest${connectionArgs(o.log)}`));
}

/** The connection flags that reach the same log from another terminal ('' for the defaults). */
function connectionArgs(config: LogConfig): string {
  if (config.backend === 'kafka') return config.brokers.join(',') === DEFAULT_TEST_BROKER ? ' --backend kafka' : ` --brokers ${config.brokers.join(',')}`;
  const dir = config.dir ?? DEFAULT_EMBEDDED_DIR;
  return resolve(dir) === resolve(DEFAULT_EMBEDDED_DIR) ? '' : ` --dir ${/^[\w./-]+$/.test(dir) ? dir : JSON.stringify(dir)}`;
}
