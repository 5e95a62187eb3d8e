/**
 * `sluice start`: the reference system in one process (start-run.ts): a simulated fleet produces
 * telemetry, the trainer fits models per device class and publishes them, serving scores every
 * record and reports anomalies, and anomalies are injected now and then to be found. This file
 * holds the command: its flags, their defaults and validation.
 */
import { detectorNames } from '../model/registry.ts';
import { parseDuration } from '../training/index.ts';
import { intFlag, numberFlag, expectPositionals, parseCommand, stringFlag, UsageError, type ParsedCommand } from './args.ts';
import type { Command } from './command.ts';
import { DATA_FLAGS, DATA_FLAGS_HELP, dataConfigFrom } from './data-flags.ts';
import { LOG_FLAGS, LOG_FLAGS_HELP } from './log-flags.ts';
import { runStart } from './start-run.ts';

/** Defaults of `sluice start`. */
export const START_DEFAULTS = {
  topic: 'telemetry',
  partitions: 4,
  rate: 50,
  devices: 8,
  detector: 'robust-zscore',
  trainAfter: 1_000,
  retrainEvery: '5m',
  trainWindow: '10m',
  anomalyEvery: '20s',
  httpPort: 8080,
} as const;

const TRAINABLE = detectorNames().filter((n) => n !== 'onnx');

const USAGE = `Usage: sluice start [flags]

Runs the reference system in one process: a simulated fleet sends telemetry; once there is some
history the trainer fits a model per device class (on a worker thread) and publishes it, then
retrains now and then; serving scores every record with the live models and writes anomalies; and
once models serve, an anomaly is injected into one device now and then, so you can watch it found.
One status line per second, one line per anomaly; Ctrl-C (or --duration) stops it with a summary.

Fleet:
  --rate N                 records per second (default ${START_DEFAULTS.rate})
  --devices N              simulated devices (default ${START_DEFAULTS.devices})
  --duration SECONDS       stop by itself after this long (default: run until Ctrl-C)
  --anomaly-every DURATION mean time between injected anomalies, e.g. 20s; 0: none (default ${START_DEFAULTS.anomalyEvery})
  --seed N                 seed of the fleet and the injected anomalies (default: random)

Models:
  --detector NAME          detector to train (default ${START_DEFAULTS.detector}); one of: ${TRAINABLE.join(', ')}
  --train-after N          records before the first training run (default ${START_DEFAULTS.trainAfter})
  --retrain-every DURATION time between training runs once models serve; 0: never (default ${START_DEFAULTS.retrainEvery})
  --train-window DURATION  each run trains on this much recent telemetry (default ${START_DEFAULTS.trainWindow})

Serving and topics:
  --http-port N            serving's /models /metrics /healthz /readyz (default ${START_DEFAULTS.httpPort}, or any
                           free port if it is busy; 0: any free port)
  --topic NAME             telemetry topic (default ${START_DEFAULTS.topic})
  --partitions N           partitions of the topics when created (default ${START_DEFAULTS.partitions})
  -h, --help               show this help

${DATA_FLAGS_HELP}

${LOG_FLAGS_HELP}

Watch the anomalies from another terminal:  npx sluice topics tail anomalies`;

const FLAGS = {
  ...LOG_FLAGS,
  ...DATA_FLAGS,
  rate: { type: 'string' },
  duration: { type: 'string' },
  devices: { type: 'string' },
  'anomaly-every': { type: 'string' },
  seed: { type: 'string' },
  detector: { type: 'string' },
  'train-after': { type: 'string' },
  'retrain-every': { type: 'string' },
  'train-window': { type: 'string' },
  'http-port': { type: 'string' },
  topic: { type: 'string' },
  partitions: { type: 'string' },
} as const;

/** The `start` command. */
export const startCommand: Command = {
  name: 'start',
  summary: 'run the reference system: simulated fleet, training, serving, anomalies (Ctrl-C to stop)',
  usage: USAGE,
  async run(args) {
    const parsed = parseCommand(args, FLAGS, USAGE);
    expectPositionals(parsed, [], USAGE);
    const { log, modelsDir } = dataConfigFrom(parsed, USAGE);
    const rate = numberFlag(parsed, 'rate', USAGE) ?? START_DEFAULTS.rate;
    if (rate > 100_000) throw new UsageError(`--rate must be at most 100000 records/s, got ${rate}`, USAGE);
    const detector = stringFlag(parsed, 'detector') ?? START_DEFAULTS.detector;
    if (!TRAINABLE.includes(detector)) throw new UsageError(`--detector must be one of ${TRAINABLE.join(', ')}; got ${JSON.stringify(detector)}`, USAGE);
    const topic = stringFlag(parsed, 'topic') ?? START_DEFAULTS.topic;
    if (topic === '') throw new UsageError('--topic must not be empty', USAGE);
    const seconds = numberFlag(parsed, 'duration', USAGE);
    return runStart({
      log,
      modelsDir,
      rate,
      durationMs: seconds === undefined ? undefined : Math.round(seconds * 1_000),
      devices: intFlag(parsed, 'devices', USAGE, { min: 1, max: 10_000 }) ?? START_DEFAULTS.devices,
      topic,
      partitions: intFlag(parsed, 'partitions', USAGE, { min: 1, max: 10_000 }) ?? START_DEFAULTS.partitions,
      httpPort: intFlag(parsed, 'http-port', USAGE, { min: 0, max: 65_535 }) ?? null,
      detector,
      trainAfter: intFlag(parsed, 'train-after', USAGE, { min: 1 }) ?? START_DEFAULTS.trainAfter,
      retrainEveryMs: durationFlag(parsed, 'retrain-every', START_DEFAULTS.retrainEvery),
      trainWindowMs: durationFlag(parsed, 'train-window', START_DEFAULTS.trainWindow, false)!,
      anomalyEveryMs: durationFlag(parsed, 'anomaly-every', START_DEFAULTS.anomalyEvery),
      seed: intFlag(parsed, 'seed', USAGE, { min: 0, max: 0xffff_ffff }) ?? Math.floor(Math.random() * 0x1_0000_0000),
    });
  },
};

/** A duration flag (`20s`, `5m`, `1h`…) in ms; `0` gives null (off) where `off` allows it. */
function durationFlag(parsed: ParsedCommand, name: string, fallback: string, off = true): number | null {
  const raw = stringFlag(parsed, name) ?? fallback;
  if (off && raw.trim() === '0') return null;
  try {
    return parseDuration(raw, `--${name}`);
  } catch (error) {
    throw new UsageError((error as Error).message, USAGE);
  }
}
