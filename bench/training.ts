/**
 * Training benchmark: how long `trainOnce` takes on a fleet's history, and how much it stalls the
 * event loop of the process that runs it (what a serving instance in the same process would feel),
 * with the fit and evaluation on a worker thread (the default) and on the calling thread.
 *   - telemetry of `--devices` devices in `--classes` classes (4 metrics: sinusoids + noise),
 *     `--records` records in all, produced once to an embedded log in a temporary directory (or
 *     `--backend kafka`);
 *   - then, for each mode, one dry run (fit + evaluate, nothing published) per class with the
 *     detector `--detector`, timed; meanwhile `monitorEventLoopDelay` (1 ms resolution) records how
 *     late the event loop ran: its p99 and max are the stalls a co-located serving loop would see;
 *     an idle second measured first gives the machine's own noise floor.
 * Usage: node bench/training.ts [--records N] [--devices N] [--classes N] [--detector NAME] [--json]
 *        (or: npx sluice bench training …). With --json the last line is one JSON object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createRng } from '../src/model/detectors/common/prng.ts';
import { openLog, telemetryCodec, type Log, type ProducerRecord } from '../src/log/index.ts';
import { ModelStore } from '../src/model/store.ts';
import { trainOnce, type TrainingReport } from '../src/training/index.ts';
import { benchLogConfig, LOG_OPTIONS, exitOnHelp, positiveIntParser, sayer } from './args.ts';

/** Figures of one mode. */
export interface TrainingModeResult {
  readonly mode: 'worker' | 'in-process';
  readonly durationMs: number;
  /** Records read per second of the whole run (read, fit, evaluate). */
  readonly recordsPerSec: number;
  /** Event-loop delay of the calling thread during the run, ms. */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  readonly models: number;
}

/** Everything the benchmark prints with --json. */
export interface TrainingBenchResult {
  readonly node: string;
  readonly records: number;
  readonly devices: number;
  readonly detector: string;
  /** Event-loop delay of an idle second before the runs (the machine's noise floor), ms. */
  readonly idleLoopDelayP99Ms: number;
  readonly idleLoopDelayMaxMs: number;
  readonly modes: readonly TrainingModeResult[];
}

const USAGE = 'usage: sluice bench training [--records 500000] [--devices 100] [--classes 4] [--detector robust-zscore] [--backend embedded|kafka] [--json]';
const START = 1_767_225_600_000;
const STEP = 10_000;
const TOPIC = 'bench-training-telemetry';
const IDLE_MS = 1_000;

/** Runs the benchmark with CLI-style arguments; prints figures (and JSON last with --json). */
export async function runTrainingBench(args: readonly string[]): Promise<TrainingBenchResult> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      records: { type: 'string', default: '500000' },
      devices: { type: 'string', default: '100' },
      classes: { type: 'string', default: '4' },
      detector: { type: 'string', default: 'robust-zscore' },
      ...LOG_OPTIONS,
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  exitOnHelp(values.help, USAGE);
  const int = positiveIntParser(USAGE);
  const records = int('records', values.records);
  const devices = int('devices', values.devices);
  const classes = int('classes', values.classes);
  const say = sayer(values.json);
  const { config, cleanup } = benchLogConfig(values, USAGE);
  const log = await openLog(config);
  const storeDir = mkdtempSync(join(tmpdir(), 'sluice-bench-models-'));
  try {
    const topic = config.backend === 'kafka' ? `${TOPIC}-${Date.now()}` : TOPIC;
    say(`node ${process.version}; ${records.toLocaleString('en')} records of ${devices} devices in ${classes} classes on the ${config.backend} log; detector ${values.detector}, dry runs per class`);
    await produce(log, topic, records, devices, classes);
    const idle = monitorEventLoopDelay({ resolution: 1 });
    idle.enable();
    await delay(IDLE_MS);
    idle.disable();
    const idleP99 = round(idle.percentile(99) / 1e6);
    const idleMax = round(idle.max / 1e6);
    say(`idle       event-loop delay p99 ${idleP99} ms, max ${idleMax} ms (the machine's noise floor)`);
    const modes: TrainingModeResult[] = [];
    for (const mode of ['worker', 'in-process'] as const) {
      const store = new ModelStore({ dir: join(storeDir, mode) });
      const histogram = monitorEventLoopDelay({ resolution: 1 });
      histogram.enable();
      const started = performance.now();
      const report: TrainingReport = await trainOnce({ log, store }, { topic, detector: values.detector, worker: mode === 'worker', dryRun: true });
      const durationMs = performance.now() - started;
      histogram.disable();
      const result: TrainingModeResult = {
        mode,
        durationMs: Math.round(durationMs),
        recordsPerSec: Math.round((report.read.records / durationMs) * 1000),
        loopDelayP99Ms: round(histogram.percentile(99) / 1e6),
        loopDelayMaxMs: round(histogram.max / 1e6),
        models: report.models.length,
      };
      modes.push(result);
      say(
        `${mode.padEnd(10)} ${result.models} models in ${result.durationMs.toLocaleString('en')} ms (${result.recordsPerSec.toLocaleString('en')} records/s); ` +
          `event-loop delay p99 ${result.loopDelayP99Ms} ms, max ${result.loopDelayMaxMs} ms`,
      );
    }
    const result: TrainingBenchResult = { node: process.version, records, devices, detector: values.detector, idleLoopDelayP99Ms: idleP99, idleLoopDelayMaxMs: idleMax, modes };
    if (values.json) console.log(JSON.stringify(result));
    return result;
  } finally {
    await log.close();
    cleanup();
    rmSync(storeDir, { recursive: true, force: true });
  }
}

/** Appends the fleet's telemetry: every device one record per STEP, round-robin, 4 metrics. */
async function produce(log: Log, topic: string, records: number, devices: number, classes: number): Promise<void> {
  await log.admin.createTopic(topic, { partitions: 4 });
  const rng = createRng(3);
  const encoder = new TextEncoder();
  const ids = Array.from({ length: devices }, (_, d) => `device-${String(d).padStart(4, '0')}`);
  const producer = log.producer();
  let batch: ProducerRecord[] = [];
  for (let i = 0; i < records; i++) {
    const d = i % devices;
    const step = Math.floor(i / devices);
    const ts = START + step * STEP;
    const wave = Math.sin((2 * Math.PI * step) / 360 + d);
    const metrics = { temp: 60 + 5 * wave + rng.next(), vib: 2 + wave * 0.2 + rng.next() * 0.1, press: 8 + rng.next() * 0.05, rpm: 3000 + 50 * wave + rng.next() * 5 };
    const value = telemetryCodec.encode({ deviceId: ids[d]!, ts, metrics, tags: { class: `class-${d % classes}` } });
    batch.push({ topic, key: encoder.encode(ids[d]!), value, timestamp: ts });
    if (batch.length === 10_000) {
      await producer.send(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await producer.send(batch);
  await producer.close();
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

if (import.meta.main) {
  runTrainingBench(process.argv.slice(2)).catch((error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  });
}
