/**
 * Options of a training run, their defaults (one object) and their validation at the boundary:
 * every mistake is a CONFIG_INVALID error whose message names the option's path
 * (`/training/evaluation/holdoutFraction must be in (0, 0.9], got 2`).
 */
import { ErrorCode, SluiceError, isSluiceError } from '../errors.ts';
import { ONNX_FACTORY_KIND } from '../model/descriptor.ts';
import { DEFAULT_MODELS_TOPIC } from '../model/models-topic.ts';
import { DEFAULT_DETECTOR, getDetectorFactory } from '../model/registry.ts';
import type { JsonValue } from '../model/types.ts';
import { checkRange, WHOLE_TOPIC, type TrainingRange } from './range.ts';
import type { SamplingLimits } from './sampler.ts';

/** How series are grouped into models (model names per the serving contract). */
export const GroupBy = {
  /** One model per device class (tag `classTag`): `class.<class>`. */
  CLASS: 'class',
  /** One model per device: `device.<deviceId>`. */
  DEVICE: 'device',
  /** One model for every device: `default`. */
  FLEET: 'fleet',
} as const;
/** One of {@link GroupBy}. */
export type GroupBy = (typeof GroupBy)[keyof typeof GroupBy];

/** How much worse than the live model a candidate may be and still be published. */
export interface Tolerance {
  /** Largest drop of event-level F1 on the injected held-back data (0..1). */
  readonly f1: number;
  /** Largest rise of false alarms per 1,000 clean held-back records (≥ 0). */
  readonly falseAlarmsPer1k: number;
}

/** The unsupervised evaluation (docs/training.md). */
export interface EvaluationOptions {
  /** Newest fraction of each series held back from the fit and used to evaluate, in (0, 0.9]. */
  readonly holdoutFraction: number;
  /** Training records replayed through a fresh series state before the held-back part is scored (≥ 0). */
  readonly primeRecords: number;
  /** One injected anomaly per this many held-back records of a series (≥ 2·detectionWindow + anomalyLength + 1). */
  readonly anomalyEvery: number;
  /** Records a level shift or a drift lasts (≥ 1). */
  readonly anomalyLength: number;
  /** Records after an anomaly's last record within which an alarm still detects it (≥ 1). */
  readonly detectionWindow: number;
  readonly tolerance: Tolerance;
}

/** Options of a training run; every field has a default ({@link TRAINING_DEFAULTS}). */
export interface TrainingOptions {
  /** The telemetry topic. */
  readonly topic: string;
  /** The compacted topic models are published to. */
  readonly modelsTopic: string;
  readonly range: TrainingRange;
  /** Detector kind (a registry name other than `onnx`). */
  readonly detector: string;
  /** The detector's hyperparameters (validated by the detector). */
  readonly hyperparameters: Readonly<Record<string, JsonValue>>;
  /** Metric names the models read; null: every metric of the group's data, sorted. */
  readonly features: readonly string[] | null;
  /** Seed of the fit and of the anomaly injection. */
  readonly seed: number;
  readonly per: GroupBy;
  /** The tag naming a device's class. */
  readonly classTag: string;
  readonly sampling: SamplingLimits;
  /** A group with fewer records (training plus held back) is not trained. */
  readonly minRecords: number;
  readonly evaluation: EvaluationOptions;
  /** Publish without comparing with the live model. */
  readonly force: boolean;
  /** Fit and evaluate, publish nothing. */
  readonly dryRun: boolean;
  /** Fit and evaluate on a worker thread (true) or on the calling thread. */
  readonly worker: boolean;
  /** Longest wait of one poll while reading, ms. */
  readonly pollTimeoutMs: number;
  /** A partition that makes no progress for this long is left unfinished (and reported), ms. */
  readonly stallTimeoutMs: number;
}

/** Options as callers give them: any field may be left out, nested ones too. */
export type TrainingOptionsInput = Partial<Omit<TrainingOptions, 'sampling' | 'evaluation'>> & {
  readonly sampling?: Partial<SamplingLimits>;
  readonly evaluation?: Partial<Omit<EvaluationOptions, 'tolerance'>> & { readonly tolerance?: Partial<Tolerance> };
};

/** The defaults of every training option. */
export const TRAINING_DEFAULTS: TrainingOptions = Object.freeze({
  topic: 'telemetry',
  modelsTopic: DEFAULT_MODELS_TOPIC,
  range: WHOLE_TOPIC,
  detector: DEFAULT_DETECTOR,
  hyperparameters: {},
  features: null,
  seed: 1,
  per: GroupBy.CLASS,
  classTag: 'class',
  sampling: { maxRecords: 1_000_000, maxRecordsPerSeries: 20_000, maxSeries: 10_000 },
  minRecords: 200,
  evaluation: {
    holdoutFraction: 0.2,
    primeRecords: 1_000,
    anomalyEvery: 400,
    anomalyLength: 30,
    detectionWindow: 20,
    tolerance: { f1: 0.02, falseAlarmsPer1k: 1 },
  },
  force: false,
  dryRun: false,
  worker: true,
  pollTimeoutMs: 500,
  stallTimeoutMs: 10_000,
});

const TOP_KEYS = new Set(Object.keys(TRAINING_DEFAULTS));
const GROUPS: readonly string[] = Object.values(GroupBy);
const TRIAL_ROWS = 8;

/** Fills in the defaults and validates every option (see the file comment). */
export function resolveTrainingOptions(input: TrainingOptionsInput = {}): TrainingOptions {
  if (input === null || typeof input !== 'object') throw bad('', `must be an object, got ${typeof input}`);
  for (const key of Object.keys(input)) if (!TOP_KEYS.has(key)) throw bad(`/${key}`, 'is not a training option');
  const d = TRAINING_DEFAULTS;
  const sampling = { ...d.sampling, ...object(input.sampling, '/sampling') };
  const evalIn = object(input.evaluation, '/evaluation');
  const tolerance = { ...d.evaluation.tolerance, ...object(evalIn.tolerance, '/evaluation/tolerance') };
  const evaluation = { ...d.evaluation, ...evalIn, tolerance };
  const o: TrainingOptions = { ...d, ...input, sampling, evaluation };

  topicName(o.topic, '/topic');
  topicName(o.modelsTopic, '/modelsTopic');
  if (o.topic === o.modelsTopic) throw bad('/modelsTopic', `must differ from /training/topic (${o.topic})`);
  try {
    checkRange(o.range);
  } catch (error) {
    const e = error as SluiceError;
    throw new SluiceError(e.code, `/training/range: ${e.message}`, { cause: e, details: { path: '/training/range' } });
  }
  checkDetector(o.detector, o.hyperparameters);
  if (o.features !== null) {
    if (!Array.isArray(o.features) || o.features.length === 0) throw bad('/features', 'must be null or a non-empty list of metric names');
    o.features.forEach((f, i) => {
      if (typeof f !== 'string' || f === '') throw bad(`/features/${i}`, `must be a non-empty string, got ${JSON.stringify(f)}`);
      if (o.features!.indexOf(f) !== i) throw bad(`/features/${i}`, `duplicate metric ${JSON.stringify(f)}`);
    });
  }
  int(o.seed, '/seed', 0);
  if (!GROUPS.includes(o.per)) throw bad('/per', `must be one of ${GROUPS.join(', ')}, got ${JSON.stringify(o.per)}`);
  if (typeof o.classTag !== 'string' || o.classTag === '') throw bad('/classTag', 'must be a non-empty tag name');
  int(o.sampling.maxRecords, '/sampling/maxRecords', 1);
  int(o.sampling.maxRecordsPerSeries, '/sampling/maxRecordsPerSeries', 1);
  int(o.sampling.maxSeries, '/sampling/maxSeries', 1);
  if (o.sampling.maxSeries > o.sampling.maxRecords) {
    throw bad('/sampling/maxSeries', `must be ≤ /training/sampling/maxRecords (${o.sampling.maxRecords}), got ${o.sampling.maxSeries}`);
  }
  int(o.minRecords, '/minRecords', 2);
  const e = o.evaluation;
  if (typeof e.holdoutFraction !== 'number' || !(e.holdoutFraction > 0 && e.holdoutFraction <= 0.9)) {
    throw bad('/evaluation/holdoutFraction', `must be in (0, 0.9], got ${String(e.holdoutFraction)}`);
  }
  int(e.primeRecords, '/evaluation/primeRecords', 0);
  int(e.anomalyLength, '/evaluation/anomalyLength', 1);
  int(e.detectionWindow, '/evaluation/detectionWindow', 1);
  int(e.anomalyEvery, '/evaluation/anomalyEvery', 2 * e.detectionWindow + e.anomalyLength + 1);
  for (const key of ['f1', 'falseAlarmsPer1k'] as const) {
    const v = e.tolerance[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (key === 'f1' && v > 1)) {
      throw bad(`/evaluation/tolerance/${key}`, `must be a number ${key === 'f1' ? 'in [0, 1]' : '≥ 0'}, got ${String(v)}`);
    }
  }
  for (const key of ['force', 'dryRun', 'worker'] as const) if (typeof o[key] !== 'boolean') throw bad(`/${key}`, `must be a boolean, got ${String(o[key])}`);
  int(o.pollTimeoutMs, '/pollTimeoutMs', 1);
  int(o.stallTimeoutMs, '/stallTimeoutMs', 1);
  return o;
}

/**
 * The detector must exist, be trainable here (not `onnx`), and accept the hyperparameters: a
 * trial fit on a few synthetic rows surfaces the detector's own MODEL_INVALID message before any
 * data is read.
 */
function checkDetector(kind: string, hyperparameters: Readonly<Record<string, JsonValue>>): void {
  if (kind === ONNX_FACTORY_KIND) throw bad('/detector', ': onnx models are trained outside Sluice; publish them with a descriptor instead');
  let factory;
  try {
    factory = getDetectorFactory(kind);
  } catch (error) {
    throw bad('/detector', `: ${(error as Error).message}`, error);
  }
  if (hyperparameters === null || typeof hyperparameters !== 'object' || Array.isArray(hyperparameters)) {
    throw bad('/hyperparameters', 'must be an object of hyperparameter name → value');
  }
  const trial = Array.from({ length: TRIAL_ROWS }, (_, i) => ({ ts: i, values: { x: i % 3 } }));
  try {
    factory.fit(trial, { features: ['x'], hyperparameters });
  } catch (error) {
    if (isSluiceError(error)) throw bad('/hyperparameters', `: ${kind}: ${error.message}`, error);
    throw error;
  }
}

function object<T>(value: T | undefined, path: string): Partial<NonNullable<T>> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(path, 'must be an object');
  return value as Partial<NonNullable<T>>;
}

function int(value: unknown, path: string, min: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw bad(path, `must be an integer ≥ ${min}, got ${String(value)}`);
}

function topicName(value: unknown, path: string): void {
  if (typeof value !== 'string' || value === '') throw bad(path, `must be a topic name, got ${JSON.stringify(value)}`);
}

function bad(path: string, reason: string, cause?: unknown): SluiceError {
  return new SluiceError(ErrorCode.CONFIG_INVALID, `/training${path}${reason.startsWith(':') ? '' : ' '}${reason}`, {
    cause,
    details: { path: `/training${path}` },
  });
}
