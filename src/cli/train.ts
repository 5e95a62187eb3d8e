/**
 * `sluice train`: trains models from the telemetry history once, or on a schedule (every N minutes
 * or every N new records), with progress on stderr and each run's outcome on stdout (one JSON line
 * per run with --json). Ctrl-C or SIGTERM stops it cleanly between steps.
 */
import { isSluiceError, ErrorCode } from '../errors.ts';
import type { Log } from '../log/index.ts';
import { detectorNames } from '../model/registry.ts';
import { ModelStore } from '../model/store.ts';
import {
  GroupBy,
  TRAINING_DEFAULTS,
  parseDuration,
  parseOffsetBound,
  parseTimeBound,
  resolveTrainingOptions,
  runTrainingSchedule,
  trainOnce,
  type TrainingOptionsInput,
  type TrainingRange,
  type TrainingSchedule,
} from '../training/index.ts';
import type { JsonValue } from '../model/types.ts';
import { choiceFlag, intFlag, numberFlag, expectPositionals, parseCommand, stringFlag, UsageError, type ParsedCommand } from './args.ts';
import type { Command } from './command.ts';
import { DATA_FLAGS, dataConfigFrom } from './data-flags.ts';
import { LOG_FLAGS, describeLog, openCliLog } from './log-flags.ts';
import { err, out } from './output.ts';
import { onStop } from './stop.ts';
import { formatRun, progressPrinter } from './train-output.ts';

const D = TRAINING_DEFAULTS;
const TRAINABLE = detectorNames().filter((n) => n !== 'onnx');

const USAGE = `Usage: sluice train [--detector NAME] [--per class|device|fleet] [range] [--force] [--dry-run] [--json]
                   [--every DURATION | --every-records N] [storage flags]

Reads a range of the telemetry topic, fits the detector per device class, per device or for the
fleet (models class.<class>, device.<id>, default), evaluates each candidate and the live model on
the newest part of the range held back from the fit (with synthetic anomalies injected; see
docs/training.md), and publishes the candidates that are not worse: to the model store first, then
to the models topic. Progress goes to stderr, outcomes to stdout.

Model:
  --detector NAME          detector (default ${D.detector}); one of: ${TRAINABLE.join(', ')}
  --hyper K=V,...          the detector's hyperparameters (numbers, true/false, else text)
  --per class|device|fleet one model per device class, per device, or one for all (default ${D.per})
  --class-tag TAG          the tag naming a device's class (default ${D.classTag})
  --features A,B           metrics the models read (default: every metric in the data)
  --seed N                 seed of the fit and of the injected anomalies (default ${D.seed})

Range (records of the telemetry topic; default: all of it):
  --from T, --to T         record timestamps in [from, to): ISO 8601 (UTC unless zoned) or ms
  --last DURATION          the last DURATION before each run, e.g. 7d (a sliding window)
  --from-offset N|P=N,...  offsets in [from, to), for every partition or per partition
  --to-offset N|P=N,...
  --max-records N          records held in memory (default ${D.sampling.maxRecords}; the newest are kept)
  --max-records-per-series N  records held per device (default ${D.sampling.maxRecordsPerSeries})

Evaluation and publishing:
  --holdout F              newest fraction of each device's records held back (default ${D.evaluation.holdoutFraction})
  --tolerance F            largest F1 drop accepted against the live model (default ${D.evaluation.tolerance.f1})
  --force                  publish without comparing with the live model
  --dry-run                fit and evaluate, publish nothing
  --in-process             fit on this thread instead of a worker thread

Schedule (default: train once and exit):
  --every DURATION         train now, then every DURATION (e.g. 10m, 1h)
  --every-records N        train now, then every N records appended to the topic

Storage:
  --data-dir DIR           the embedded log in DIR and the model store in DIR/models (default ./data)
  --models-dir DIR         the model store (default DATA-DIR/models)
  --topic NAME             telemetry topic (default ${D.topic})
  --models-topic NAME      models topic (default ${D.modelsTopic})
  --backend embedded|kafka, --brokers HOST:PORT,...   the log (as every log command; --dir is --data-dir)

Output:
  --json                   after each run, one JSON line with the run's report

Examples:
  sluice train --detector robust-zscore --per class
  sluice train --from 2026-01-01 --to 2026-02-01 --per device --dry-run
  sluice train --last 7d --every 1h --backend kafka`;

const FLAGS = {
  ...LOG_FLAGS,
  ...DATA_FLAGS,
  topic: { type: 'string' },
  'models-topic': { type: 'string' },
  detector: { type: 'string' },
  hyper: { type: 'string' },
  per: { type: 'string' },
  'class-tag': { type: 'string' },
  features: { type: 'string' },
  seed: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  last: { type: 'string' },
  'from-offset': { type: 'string' },
  'to-offset': { type: 'string' },
  'max-records': { type: 'string' },
  'max-records-per-series': { type: 'string' },
  holdout: { type: 'string' },
  tolerance: { type: 'string' },
  force: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'in-process': { type: 'boolean' },
  every: { type: 'string' },
  'every-records': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** The `train` command. */
export const trainCommand: Command = {
  name: 'train',
  summary: 'train models from the telemetry history and publish the good ones (once or on a schedule)',
  usage: USAGE,
  async run(args) {
    const parsed = parseCommand(args, FLAGS, USAGE);
    expectPositionals(parsed, [], USAGE);
    const { log: logConfig, modelsDir } = dataConfigFrom(parsed, USAGE);
    const options = optionsFrom(parsed);
    resolveTrainingOptions(options);
    const schedule = scheduleFrom(parsed);
    const json = parsed.values.json === true;

    const stop = onStop();
    let log: Log | null = null;
    try {
      log = await openCliLog(logConfig);
      const store = new ModelStore({ dir: modelsDir });
      const mode = schedule === null ? 'once' : 'everyMs' in schedule ? `every ${stringFlag(parsed, 'every')}` : `every ${stringFlag(parsed, 'every-records')} records`;
      err(`sluice train: ${options.detector ?? D.detector} per ${options.per ?? D.per} on topic '${options.topic ?? D.topic}' of ${describeLog(logConfig)}; model store ${store.dir}; ${mode}`);
      const context = { log, store, signal: stop.signal, onProgress: progressPrinter(err) };
      if (schedule === null) {
        try {
          const report = await trainOnce(context, options);
          out(json ? JSON.stringify(report) : formatRun(report));
          return report.models.some((m) => m.status === 'failed') ? 1 : 0;
        } catch (error) {
          if (!isSluiceError(error, ErrorCode.TRAINING_ABORTED)) throw error;
          err('stopped before the run finished; nothing more is published');
          return 130;
        }
      }
      await runTrainingSchedule(context, options, {
        schedule,
        onRun: (run) => {
          if ('report' in run) out(json ? JSON.stringify(run.report) : formatRun(run.report));
          else err(`run failed${isSluiceError(run.error) ? ` [${run.error.code}]` : ''}: ${run.error.message}`);
          err(`waiting for the next run (${mode})`);
        },
      });
      err('stopped');
      return 0;
    } finally {
      stop.dispose();
      await log?.close();
    }
  },
};

function optionsFrom(parsed: ParsedCommand): TrainingOptionsInput {
  const features = stringFlag(parsed, 'features')?.split(',').map((f) => f.trim()).filter((f) => f !== '');
  if (features !== undefined && features.length === 0) throw new UsageError('--features needs at least one metric name', USAGE);
  const holdout = numberFlag(parsed, 'holdout', USAGE);
  const tolerance = stringFlag(parsed, 'tolerance');
  const tol = tolerance === undefined ? undefined : Number(tolerance);
  if (tol !== undefined && !(tolerance!.trim() !== '' && Number.isFinite(tol) && tol >= 0 && tol <= 1)) {
    throw new UsageError(`--tolerance must be a number in [0, 1], got ${JSON.stringify(tolerance)}`, USAGE);
  }
  const maxRecords = intFlag(parsed, 'max-records', USAGE, { min: 1 });
  const maxPerSeries = intFlag(parsed, 'max-records-per-series', USAGE, { min: 1 });
  const per = choiceFlag(parsed, 'per', Object.values(GroupBy), USAGE);
  const hyper = stringFlag(parsed, 'hyper');
  const options: Record<string, unknown> = {
    topic: stringFlag(parsed, 'topic'),
    modelsTopic: stringFlag(parsed, 'models-topic'),
    detector: stringFlag(parsed, 'detector'),
    hyperparameters: hyper === undefined ? undefined : parseHyper(hyper),
    per,
    classTag: stringFlag(parsed, 'class-tag'),
    features,
    seed: intFlag(parsed, 'seed', USAGE, { min: 0 }),
    range: rangeFrom(parsed),
    sampling: maxRecords === undefined && maxPerSeries === undefined ? undefined : { maxRecords, maxRecordsPerSeries: maxPerSeries },
    evaluation: holdout === undefined && tol === undefined ? undefined : { holdoutFraction: holdout, tolerance: tol === undefined ? undefined : { f1: tol } },
    force: parsed.values.force === true ? true : undefined,
    dryRun: parsed.values['dry-run'] === true ? true : undefined,
    worker: parsed.values['in-process'] === true ? false : undefined,
  };
  return dropUndefined(options) as TrainingOptionsInput;
}

function rangeFrom(parsed: ParsedCommand): TrainingRange | undefined {
  const from = stringFlag(parsed, 'from');
  const to = stringFlag(parsed, 'to');
  const last = stringFlag(parsed, 'last');
  const fromOffset = stringFlag(parsed, 'from-offset');
  const toOffset = stringFlag(parsed, 'to-offset');
  const byTime = from !== undefined || to !== undefined;
  const byOffset = fromOffset !== undefined || toOffset !== undefined;
  if ([byTime, byOffset, last !== undefined].filter(Boolean).length > 1) {
    throw new UsageError('give one kind of range: --from/--to (time), --last (a window before each run) or --from-offset/--to-offset', USAGE);
  }
  try {
    if (last !== undefined) return { by: 'last', ms: parseDuration(last, '--last') };
    if (byTime) {
      return {
        by: 'time',
        ...(from === undefined ? {} : { from: parseTimeBound(from, '--from') }),
        ...(to === undefined ? {} : { to: parseTimeBound(to, '--to') }),
      };
    }
    if (byOffset) {
      return {
        by: 'offset',
        ...(fromOffset === undefined ? {} : { from: parseOffsetBound(fromOffset, '--from-offset') }),
        ...(toOffset === undefined ? {} : { to: parseOffsetBound(toOffset, '--to-offset') }),
      };
    }
  } catch (error) {
    if (isSluiceError(error, ErrorCode.INVALID_ARGUMENT)) throw new UsageError(error.message, USAGE);
    throw error;
  }
  return undefined;
}

function scheduleFrom(parsed: ParsedCommand): TrainingSchedule | null {
  const every = stringFlag(parsed, 'every');
  const everyRecords = intFlag(parsed, 'every-records', USAGE, { min: 1 });
  if (every !== undefined && everyRecords !== undefined) throw new UsageError('give --every or --every-records, not both', USAGE);
  if (everyRecords !== undefined) return { everyRecords };
  if (every === undefined) return null;
  try {
    return { everyMs: parseDuration(every, '--every') };
  } catch (error) {
    throw new UsageError((error as Error).message, USAGE);
  }
}

/** `a=1,b=true,c=text` → { a: 1, b: true, c: 'text' }. */
function parseHyper(text: string): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const part of text.split(',')) {
    const at = part.indexOf('=');
    const key = part.slice(0, at).trim();
    if (at < 1 || key === '') throw new UsageError(`--hyper: ${JSON.stringify(part)} is not NAME=VALUE`, USAGE);
    const raw = part.slice(at + 1).trim();
    let value: JsonValue = raw;
    try {
      value = JSON.parse(raw) as JsonValue;
    } catch {
      // Not JSON: the text itself.
    }
    out[key] = value;
  }
  return out;
}

function dropUndefined(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype ? dropUndefined(v as Record<string, unknown>) : v;
  }
  return out;
}
