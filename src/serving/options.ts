/**
 * Options of the scoring service (`startServing`), their defaults (one object, DESIGN.md §6.3) and
 * their validation at the boundary: CONFIG_INVALID with a message naming the path and the reason
 * (`/serving/maxSkewMs must be a number ≥ 0, got -1`).
 */
import { ErrorCode, SluiceError } from '../errors.ts';
import type { Log } from '../log/index.ts';
import { createDecider, detectorFactories, MODEL_STORE_DEFAULTS, type DeciderOptions, type DetectorRegistry } from '../model/index.ts';
import { systemClock, type Clock } from '../stream/index.ts';
import { jsonLinesLogger, type ServingLogger } from './logger.ts';
import { DEFAULT_MODELS_TOPIC } from '../model/index.ts';

/** How an ensemble combines its members: the largest or the mean likelihood, or a majority vote. */
export const EnsembleCombine = { max: 'max', mean: 'mean', vote: 'vote' } as const;
/** One of {@link EnsembleCombine}. */
export type EnsembleCombine = (typeof EnsembleCombine)[keyof typeof EnsembleCombine];

/** Topic names (DESIGN.md §1). `scores` (off by default) receives a result for every scored record. */
export interface ServingTopics {
  readonly telemetry?: string;
  readonly models?: string;
  readonly anomalies?: string;
  readonly dlq?: string;
  readonly scores?: string | null;
}

/** Ensemble mode: several models score each record and their decisions are combined. */
export interface EnsembleOptions {
  /**
   * Model names of the members, in priority order. Default null: the models that apply to the
   * record (device, class, default — those that are live).
   */
  readonly models?: readonly string[] | null;
  /** How member likelihoods (or decisions) are combined. Default `max`. */
  readonly combine?: EnsembleCombine;
  /** Combined likelihood at or above which a record is anomalous (`max`, `mean`). Default 0.5. */
  readonly threshold?: number;
  /**
   * Scoring time each member other than the first may spend per batch and task, in ms; a member
   * over it is left out of the combination for the rest of that batch (and counted). Default 5.
   */
  readonly budgetMs?: number;
}

/** A model from the store to run as a shadow of the live model of the same name. */
export interface ShadowOption {
  readonly name: string;
  readonly version: number;
}

/** HTTP endpoint of the service (`/healthz`, `/readyz`, `/metrics`, `/models`). */
export interface HttpOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** 0 picks a free port. Default 8080. */
  readonly port?: number;
}

/** Stream runtime settings passed to `run()` (see its RunOptions). */
export interface ServingStreamOptions {
  readonly maxBatchRecords?: number;
  readonly pollTimeoutMs?: number;
  readonly commitIntervalMs?: number;
  readonly maxInFlightBatches?: number;
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /** The longest an anomaly (or dead letter) waits for the end of its batch before it is sent on its own, in ms (it leaves at once when no earlier early send is unacknowledged). Default 1. */
  readonly maxOutputDelayMs?: number;
}

/** Options of `startServing`. Only `log` is required. */
export interface ServingOptions {
  /** The log to read telemetry and models from and write anomalies to. */
  readonly log: Log;
  /** The model store's directory (payload references resolve against it). Default `./data/models`. */
  readonly modelsDir?: string;
  /** Names the consumer group, the state store changelog and the transactional id. Default `sluice-serving`. */
  readonly applicationId?: string;
  /** Stable id of this instance (exactly-once fencing; logs). Default: random. */
  readonly instanceId?: string;
  readonly delivery?: 'at-least-once' | 'exactly-once';
  readonly topics?: ServingTopics;
  /** Partitions of the telemetry, anomalies, dead-letter and scores topics when serving creates them. Default 4. */
  readonly partitions?: number;
  /** Telemetry tag naming a device's class (routing to `class.<name>`). Default `class`. */
  readonly classTag?: string;
  /** Largest |event time − now| accepted, in ms; null: no check. Default 24 h. */
  readonly maxSkewMs?: number | null;
  /** Largest telemetry record (key + value bytes). Default 64 KiB. */
  readonly maxRecordBytes?: number;
  /** Devices whose state one task keeps; records of further devices go to the dead-letter topic. Default 100 000. */
  readonly maxDevicesPerTask?: number;
  /** Post-processor options (likelihood calibration, thresholds, warm-up). Default: `DECIDER_DEFAULTS`. */
  readonly decider?: DeciderOptions;
  /** Metrics listed as contributors of an anomaly. Default 3. */
  readonly contributors?: number;
  /**
   * About how often each changed device's state is written to the changelog, in ms (0: every
   * batch); the writes are spread over the interval (processor.ts). A restart loses about this much
   * of what devices learnt (the records are re-read, but not re-learnt); so does an aborted
   * exactly-once transaction. 0 keeps device state exactly in step with the committed input.
   * Default 5 000.
   */
  readonly stateCheckpointMs?: number;
  /** Observations a new model scores before it is accepted. Default 32. */
  readonly probeRecords?: number;
  /** Longest a model may take to load; then it is rejected (reason `load`). Default 60 000 ms. */
  readonly modelLoadTimeoutMs?: number;
  /** Store models to run as shadows from the start. Default none. */
  readonly shadows?: readonly ShadowOption[];
  /** Ensemble mode; null: each record is scored by its most specific live model. Default null. */
  readonly ensemble?: EnsembleOptions | null;
  /** The HTTP endpoint; null: none. */
  readonly http?: HttpOptions | null;
  /** Wall clock (skew check, `scoredAt`, checkpoints, `since`). Default: the system clock. */
  readonly clock?: Clock;
  /** Monotonic time in ms for latency measurement. Default `performance.now`. */
  readonly timer?: () => number;
  /**
   * The per-model scoring latency (min/mean/p99/max, the Prometheus summary) is measured on one
   * record in this many per task, the first one included (1: every record): reading the timer costs
   * about as much as scoring a record with the baseline detector. Default 16.
   */
  readonly latencySampleEvery?: number;
  /** Detector kinds that models may use. Default: every registered detector. */
  readonly registry?: DetectorRegistry;
  /** Largest model payload accepted, in bytes. Default 64 MiB. */
  readonly maxPayloadBytes?: number;
  /** Where structured log lines go. Default: JSON lines on stderr. */
  readonly logger?: ServingLogger;
  readonly stream?: ServingStreamOptions;
}

/** Defaults of {@link ServingOptions}. */
export const SERVING_DEFAULTS = {
  modelsDir: MODEL_STORE_DEFAULTS.dir,
  applicationId: 'sluice-serving',
  delivery: 'at-least-once',
  topics: { telemetry: 'telemetry', models: DEFAULT_MODELS_TOPIC, anomalies: 'anomalies', dlq: 'telemetry.dlq', scores: null },
  partitions: 4,
  classTag: 'class',
  maxSkewMs: 24 * 60 * 60 * 1000,
  maxRecordBytes: 64 * 1024,
  maxDevicesPerTask: 100_000,
  contributors: 3,
  stateCheckpointMs: 5_000,
  probeRecords: 32,
  modelLoadTimeoutMs: 60_000,
  latencySampleEvery: 16,
  ensemble: { models: null, combine: 'max', threshold: 0.5, budgetMs: 5 },
  http: { host: '127.0.0.1', port: 8080 },
  maxPayloadBytes: 64 * 1024 * 1024,
  stream: { maxOutputDelayMs: 1 },
} as const;

/** Options with every default filled in. */
export interface ResolvedServingOptions {
  readonly log: Log;
  readonly modelsDir: string;
  readonly applicationId: string;
  readonly instanceId: string | undefined;
  readonly delivery: 'at-least-once' | 'exactly-once';
  readonly topics: { readonly telemetry: string; readonly models: string; readonly anomalies: string; readonly dlq: string; readonly scores: string | null };
  readonly partitions: number;
  readonly classTag: string;
  readonly maxSkewMs: number | null;
  readonly maxRecordBytes: number;
  readonly maxDevicesPerTask: number;
  readonly decider: DeciderOptions;
  readonly contributors: number;
  readonly stateCheckpointMs: number;
  readonly probeRecords: number;
  readonly modelLoadTimeoutMs: number;
  readonly shadows: readonly ShadowOption[];
  readonly ensemble: Required<{ readonly [K in keyof EnsembleOptions]-?: Exclude<EnsembleOptions[K], undefined> }> | null;
  readonly http: Required<HttpOptions> | null;
  readonly clock: Clock;
  readonly timer: () => number;
  readonly latencySampleEvery: number;
  readonly registry: DetectorRegistry;
  readonly maxPayloadBytes: number;
  readonly logger: ServingLogger;
  readonly stream: ServingStreamOptions;
}

const NAME = /^[A-Za-z0-9._-]{1,100}$/;
const MODEL_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/;

const NO_VALUE = Symbol('no value');

function invalid(path: string, reason: string, value: unknown = NO_VALUE): SluiceError {
  const got = value === NO_VALUE ? '' : `, got ${show(value)}`;
  return new SluiceError(ErrorCode.CONFIG_INVALID, `/serving/${path} ${reason}${got}`, { details: { path: `/serving/${path}` } });
}

function show(v: unknown): string {
  if (typeof v === 'function') return 'a function';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function int(path: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw invalid(path, max === Number.MAX_SAFE_INTEGER ? `must be an integer ≥ ${min}` : `must be an integer in ${min}..${max}`, v);
  }
  return v;
}

function num(path: string, v: unknown, min: number, max = Number.MAX_VALUE): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw invalid(path, max === Number.MAX_VALUE ? `must be a number ≥ ${min}` : `must be a number in [${min}, ${max}]`, v);
  }
  return v;
}

function name(path: string, v: unknown, pattern = NAME): string {
  if (typeof v !== 'string' || !pattern.test(v)) throw invalid(path, `must be a name of ${pattern === NAME ? '1-100' : '1-128'} characters of A-Z a-z 0-9 . _ -`, v);
  return v;
}

function object(path: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(path, 'must be an object', v);
  return v as Record<string, unknown>;
}

function known(path: string, v: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of Object.keys(v)) if (!keys.includes(k)) throw invalid(path === '' ? k : `${path}/${k}`, `is not an option (known: ${keys.join(', ')})`);
}

const TOP_KEYS = [
  'log', 'modelsDir', 'applicationId', 'instanceId', 'delivery', 'topics', 'partitions', 'classTag', 'maxSkewMs', 'maxRecordBytes',
  'maxDevicesPerTask', 'decider', 'contributors', 'stateCheckpointMs', 'probeRecords', 'modelLoadTimeoutMs', 'shadows', 'ensemble', 'http', 'clock', 'timer',
  'latencySampleEvery', 'registry', 'maxPayloadBytes', 'logger', 'stream',
] as const;

/** Validates `options` (CONFIG_INVALID naming the first bad path) and fills in the defaults. */
export function resolveServingOptions(options: ServingOptions): ResolvedServingOptions {
  const o = object('', options) as Partial<ServingOptions> & Record<string, unknown>;
  known('', o, TOP_KEYS);
  const d = SERVING_DEFAULTS;
  if (typeof o.log?.consumer !== 'function' || typeof o.log.producer !== 'function') throw invalid('log', 'must be a Log (from openLog)');
  const modelsDir = o.modelsDir ?? d.modelsDir;
  if (typeof modelsDir !== 'string' || modelsDir === '') throw invalid('modelsDir', 'must be a non-empty path', modelsDir);
  const delivery = o.delivery ?? d.delivery;
  if (delivery !== 'at-least-once' && delivery !== 'exactly-once') throw invalid('delivery', "must be 'at-least-once' or 'exactly-once'", delivery);
  const topics = resolveTopics(o.topics);
  const decider = o.decider ?? {};
  try {
    createDecider(decider);
  } catch (error) {
    throw invalid('decider', `is not valid: ${(error as Error).message}`);
  }
  const clock = o.clock ?? systemClock;
  if (typeof clock?.now !== 'function') throw invalid('clock', 'must have a now() method');
  const timer = o.timer ?? (() => performance.now());
  if (typeof timer !== 'function') throw invalid('timer', 'must be a function returning milliseconds');
  const registry = o.registry ?? detectorFactories;
  if (!(registry instanceof Map)) throw invalid('registry', 'must be a Map of detector factories (see createRegistry)');
  const logger = o.logger ?? jsonLinesLogger();
  if (typeof logger?.log !== 'function') throw invalid('logger', 'must have a log(level, message, fields) method');
  return {
    log: o.log,
    modelsDir,
    applicationId: name('applicationId', o.applicationId ?? d.applicationId),
    instanceId: o.instanceId === undefined ? undefined : name('instanceId', o.instanceId),
    delivery,
    topics,
    partitions: int('partitions', o.partitions ?? d.partitions, 1, 10_000),
    classTag: o.classTag === undefined ? d.classTag : nonEmpty('classTag', o.classTag),
    maxSkewMs: o.maxSkewMs === null ? null : num('maxSkewMs', o.maxSkewMs ?? d.maxSkewMs, 0),
    maxRecordBytes: int('maxRecordBytes', o.maxRecordBytes ?? d.maxRecordBytes, 64),
    maxDevicesPerTask: int('maxDevicesPerTask', o.maxDevicesPerTask ?? d.maxDevicesPerTask, 1),
    decider,
    contributors: int('contributors', o.contributors ?? d.contributors, 0, 1_000),
    stateCheckpointMs: int('stateCheckpointMs', o.stateCheckpointMs ?? d.stateCheckpointMs, 0),
    probeRecords: int('probeRecords', o.probeRecords ?? d.probeRecords, 1, 100_000),
    modelLoadTimeoutMs: int('modelLoadTimeoutMs', o.modelLoadTimeoutMs ?? d.modelLoadTimeoutMs, 1),
    shadows: resolveShadows(o.shadows),
    ensemble: resolveEnsemble(o.ensemble),
    http: resolveHttp(o.http),
    clock,
    timer,
    latencySampleEvery: int('latencySampleEvery', o.latencySampleEvery ?? d.latencySampleEvery, 1, 1_000_000),
    registry,
    maxPayloadBytes: int('maxPayloadBytes', o.maxPayloadBytes ?? d.maxPayloadBytes, 1),
    logger,
    stream: resolveStream(o.stream),
  };
}

function nonEmpty(path: string, v: unknown): string {
  if (typeof v !== 'string' || v === '' || v.length > 128) throw invalid(path, 'must be a string of 1-128 characters', v);
  return v;
}

function resolveTopics(v: unknown): ResolvedServingOptions['topics'] {
  const t = object('topics', v ?? {});
  known('topics', t, ['telemetry', 'models', 'anomalies', 'dlq', 'scores']);
  const d = SERVING_DEFAULTS.topics;
  const topic = (key: 'telemetry' | 'models' | 'anomalies' | 'dlq'): string => nonEmpty(`topics/${key}`, t[key] ?? d[key]);
  const out = {
    telemetry: topic('telemetry'),
    models: topic('models'),
    anomalies: topic('anomalies'),
    dlq: topic('dlq'),
    scores: t.scores === undefined || t.scores === null ? null : nonEmpty('topics/scores', t.scores),
  };
  const names = Object.values(out).filter((n) => n !== null);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw invalid('topics', `must name different topics; '${twice}' is used twice`);
  return out;
}

function resolveShadows(v: unknown): ShadowOption[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalid('shadows', 'must be an array of { name, version }', v);
  return v.map((s: unknown, i) => {
    const o = object(`shadows/${i}`, s);
    known(`shadows/${i}`, o, ['name', 'version']);
    return { name: name(`shadows/${i}/name`, o.name, MODEL_NAME), version: int(`shadows/${i}/version`, o.version, 1) };
  });
}

function resolveEnsemble(v: unknown): ResolvedServingOptions['ensemble'] {
  if (v === undefined || v === null) return null;
  const o = object('ensemble', v);
  known('ensemble', o, ['models', 'combine', 'threshold', 'budgetMs']);
  const d = SERVING_DEFAULTS.ensemble;
  let models: string[] | null = null;
  if (o.models !== undefined && o.models !== null) {
    if (!Array.isArray(o.models) || o.models.length === 0) throw invalid('ensemble/models', 'must be a non-empty array of model names', o.models);
    models = o.models.map((m: unknown, i) => name(`ensemble/models/${i}`, m, MODEL_NAME));
    if (new Set(models).size !== models.length) throw invalid('ensemble/models', 'must not name a model twice', o.models);
  }
  const combine = o.combine ?? d.combine;
  if (!Object.values(EnsembleCombine).includes(combine as EnsembleCombine)) throw invalid('ensemble/combine', "must be 'max', 'mean' or 'vote'", combine);
  return {
    models,
    combine: combine as EnsembleCombine,
    threshold: num('ensemble/threshold', o.threshold ?? d.threshold, 0, 1),
    budgetMs: num('ensemble/budgetMs', o.budgetMs ?? d.budgetMs, 0),
  };
}

function resolveHttp(v: unknown): Required<HttpOptions> | null {
  if (v === null) return null;
  const o = object('http', v ?? {});
  known('http', o, ['host', 'port']);
  return { host: nonEmpty('http/host', o.host ?? SERVING_DEFAULTS.http.host), port: int('http/port', o.port ?? SERVING_DEFAULTS.http.port, 0, 65_535) };
}

function resolveStream(v: unknown): ServingStreamOptions {
  const o = object('stream', v ?? {});
  const keys = ['maxBatchRecords', 'pollTimeoutMs', 'commitIntervalMs', 'maxInFlightBatches', 'sessionTimeoutMs', 'heartbeatIntervalMs'] as const;
  known('stream', o, [...keys, 'maxOutputDelayMs']);
  const out: Record<string, number> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = int(`stream/${k}`, o[k], k === 'commitIntervalMs' ? 0 : 1);
  out.maxOutputDelayMs = num('stream/maxOutputDelayMs', o.maxOutputDelayMs ?? SERVING_DEFAULTS.stream.maxOutputDelayMs, 0);
  return out as ServingStreamOptions;
}
