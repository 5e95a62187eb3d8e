/**
 * What an instance reports about its models (`/models`, `handle.models()`) and itself
 * (`handle.metrics()`): plain JSON snapshots of the model table and the counters.
 */
import type { AppMetrics } from '../stream/index.ts';
import type { CarryOver, IgnoreReason, RejectReason, ServingCounters } from './counters.ts';
import type { LiveModel, ModelRole, ModelSource } from './live-model.ts';
import type { ModelManager } from './model-manager.ts';
import type { DlqReason } from './telemetry-check.ts';

/** Scoring latency of a model in ms, over the records timed (`latencySampleEvery`; 0 before any). */
export interface LatencyReport {
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** A shadow's agreement with the live model it shadows. */
export interface ShadowReport {
  readonly against: { readonly name: string; readonly version: number } | null;
  /** Records both scored. */
  readonly compared: number;
  /** Share of those with the same decision (null before any). */
  readonly agreement: number | null;
  /** Mean |shadow score − live score| (null before any). */
  readonly meanAbsScoreDelta: number | null;
}

/** One model version in (or recently out of) service. */
export interface ModelReport {
  readonly name: string;
  readonly version: number;
  readonly role: ModelRole;
  readonly kind: string;
  readonly format: string;
  readonly features: readonly string[];
  readonly source: ModelSource;
  readonly rollback: boolean;
  /** When it went into service: ISO 8601 and ms since the epoch. */
  readonly since: string;
  readonly sinceMs: number;
  readonly records: number;
  readonly anomalies: number;
  readonly errors: number;
  /** Ensemble: records it was left out of (over budget). */
  readonly dropped: number;
  readonly latencyMs: LatencyReport;
  readonly shadow?: ShadowReport;
}

/** The models of an instance. */
export interface ModelsReport {
  readonly ready: boolean;
  /** Live models, then shadows, each sorted by name. */
  readonly models: readonly ModelReport[];
  /** Versions taken out of service lately, oldest first (at most 20). */
  readonly retired: readonly ModelReport[];
}

/** A snapshot of an instance's counters. */
export interface ServingMetrics {
  readonly ready: boolean;
  /** Telemetry records that passed the checks. */
  readonly records: number;
  /** Records scored by live model versions, retired ones included (in ensemble mode, once per member that scored it). */
  readonly scored: number;
  readonly anomalies: number;
  readonly unrouted: number;
  readonly dlq: Readonly<Record<DlqReason | 'scoring', number>>;
  readonly rejections: Readonly<Record<RejectReason, number>>;
  readonly ignored: Readonly<Record<IgnoreReason, number>>;
  readonly swaps: Readonly<Record<string, number>>;
  readonly carryOver: Readonly<Record<CarryOver, number>>;
  /** Records scored per live model version, retired ones included (`name@version` → records). */
  readonly scoredByVersion: Readonly<Record<string, number>>;
  readonly models: ModelsReport;
  /** The stream runtime's metrics (null before it started). */
  readonly stream: AppMetrics | null;
}

/** The report of one model. */
export function modelReport(m: LiveModel): ModelReport {
  const s = m.stats;
  const l = s.latency.summary();
  const a = s.shadow;
  return {
    name: m.name,
    version: m.version,
    role: m.role,
    kind: m.descriptor.kind,
    format: m.descriptor.format,
    features: m.descriptor.features.metrics,
    source: m.source,
    rollback: m.rollback,
    since: new Date(m.since).toISOString(),
    sinceMs: m.since,
    records: s.scored,
    anomalies: s.anomalies,
    errors: s.errors,
    dropped: s.dropped,
    latencyMs: { min: l.minMs, mean: l.meanMs, p50: l.p50Ms, p99: l.p99Ms, max: l.maxMs },
    ...(m.role === 'shadow'
      ? {
          shadow: {
            against: a.against,
            compared: a.compared,
            agreement: a.compared === 0 ? null : a.agreed / a.compared,
            meanAbsScoreDelta: a.compared === 0 ? null : a.sumAbsDelta / a.compared,
          },
        }
      : {}),
  };
}

const byName = (a: LiveModel, b: LiveModel): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The models report of a manager. */
export function modelsReport(manager: ModelManager, ready: boolean): ModelsReport {
  const { live, shadows } = manager.table;
  return {
    ready,
    models: [...[...live.values()].sort(byName), ...[...shadows.values()].sort(byName)].map(modelReport),
    retired: manager.retired.map(modelReport),
  };
}

/** The metrics snapshot of an instance. */
export function servingMetrics(manager: ModelManager, counters: ServingCounters, ready: boolean, stream: AppMetrics | null): ServingMetrics {
  const models = modelsReport(manager, ready);
  const scoredByVersion: Record<string, number> = {};
  let scored = 0;
  let anomalies = 0;
  for (const m of [...models.retired, ...models.models]) {
    if (m.role !== 'live') continue;
    scoredByVersion[`${m.name}@${m.version}`] = (scoredByVersion[`${m.name}@${m.version}`] ?? 0) + m.records;
    scored += m.records;
    anomalies += m.anomalies;
  }
  return {
    ready,
    records: counters.records,
    scored,
    anomalies,
    unrouted: counters.unrouted,
    dlq: { ...counters.dlq },
    rejections: { ...counters.rejections },
    ignored: { ...counters.ignored },
    swaps: Object.fromEntries(counters.swaps),
    carryOver: { ...counters.carryOver },
    scoredByVersion,
    models,
    stream,
  };
}
