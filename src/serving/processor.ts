/**
 * The scoring processor: one per task (telemetry partition), connected to the `models` control
 * stream. Control records go to the instance's model manager (which has already taken them from
 * the instance's control listener and loads them in the background; offering them here only
 * returns the hold of a first model while no `default` serves, so that the task's data waits);
 * each telemetry record is checked (failures → dead letter with a reason), routed to a model,
 * scored with the device's series state, decided, and — when anomalous — written to `anomalies`.
 *
 * Every record reads the model table once, so it is scored by exactly one version of its model
 * (the table is replaced whole on a swap, between records). The skew check measures event time
 * against the wall clock as read at the end of the previous batch. Device states are written to the state
 * store's changelog at the end of a batch, each about every `stateCheckpointMs` of wall-clock time
 * (0: every batch): every batch writes the share of the changed devices that the time since the
 * previous batch is of that interval, longest-waiting first — so the writes are spread out instead
 * of all devices at once (a burst that would stall scoring). Until then states change in memory
 * only, so a restart may lose up to about that much learning (the records themselves are re-read
 * from the last committed offset, never lost).
 *
 * Ensemble mode scores each record with every member (see live-model.ts `members`) and combines:
 * `max` / `mean` of the members' likelihoods against `threshold`, or a majority `vote` of their
 * decisions. Members after the first have a time budget per batch; once a member's scoring time in
 * the batch exceeds it, it is left out of the combination (and not scored) until the batch ends.
 * Shadows score beside the live model they shadow and are compared with it; they emit nothing.
 */
import type { Telemetry } from '../log/index.ts';
import type { Decision, Observation } from '../model/index.ts';
import type { ConnectedProcessor, ConnectedProcessorSupplier, KeyValueStore, ProcessorContext, StreamRecord } from '../stream/index.ts';
import { topContributors, type MemberResult, type ScoredRecord } from './anomaly.ts';
import type { ServingCounters } from './counters.ts';
import { deadLetterHeaders } from './dead-letter.ts';
import { attach, DeviceSlot, LIVE_SERIES, memberSeries, shadowSeries, type SeriesState } from './device-state.ts';
import { members, route, type LiveModel, type ModelTable } from './live-model.ts';
import type { ServingLogger } from './logger.ts';
import type { ModelManager } from './model-manager.ts';
import type { ResolvedServingOptions } from './options.ts';
import { DlqReason, Rejection, telemetryChecker, type TelemetryCheck } from './telemetry-check.ts';

/** Name of the state store of device states. */
export const DEVICE_STATE_STORE = 'serving-device-state';

/** Which output topic a processor output goes to. */
export const OutputTopic = { anomalies: 'anomalies', scores: 'scores', dlq: 'dlq' } as const;
/** One of {@link OutputTopic}. */
export type OutputTopic = (typeof OutputTopic)[keyof typeof OutputTopic];

/** An encoded output record and its topic. */
export interface ServingOutput {
  readonly to: OutputTopic;
  readonly bytes: Uint8Array;
}

/** What the processors of an instance share. */
export interface ProcessorDeps {
  readonly options: ResolvedServingOptions;
  readonly manager: ModelManager;
  readonly counters: ServingCounters;
  readonly logger: ServingLogger;
}

type In = StreamRecord<Uint8Array | null, Uint8Array>;
type Control = StreamRecord<string | null, Uint8Array>;

/** A score and its decision, by one model. */
interface Result {
  readonly score: number;
  readonly decision: Decision;
  readonly series: SeriesState;
}

const encoder = new TextEncoder();

/** Makes the scoring processor of each task. */
export function servingProcessor(deps: ProcessorDeps): ConnectedProcessorSupplier<Uint8Array | null, Uint8Array, string | null, Uint8Array, Uint8Array | null, ServingOutput> {
  return () => new ServingProcessor(deps);
}

class ServingProcessor implements ConnectedProcessor<Uint8Array | null, Uint8Array, string | null, Uint8Array, Uint8Array | null, ServingOutput> {
  readonly #deps: ProcessorDeps;
  readonly #o: ResolvedServingOptions;
  readonly #check: TelemetryCheck;
  readonly #timer: () => number;
  #ctx!: ProcessorContext<Uint8Array | null, ServingOutput>;
  #store!: KeyValueStore<string, DeviceSlot>;
  /** Devices whose state changed since their last checkpoint, longest-waiting first. */
  readonly #dirty = new Set<DeviceSlot>();
  /** Ensemble: scoring time of each member in the current batch (ms). */
  readonly #spent = new Map<LiveModel, number>();
  /** Wall-clock time of the previous checkpoint step that found changed devices. */
  #lastFlush = Number.NEGATIVE_INFINITY;
  /** Devices due for a checkpoint, in fractions (see flush). */
  #credit = 0;
  /** The wall clock, read once per batch (the skew check's "now"). */
  #now: number;
  /** Records until the next one whose scoring is timed (`latencySampleEvery`); 0: this one. */
  #untilTimed = 0;
  /** Whether the record being processed is timed. */
  #timed = false;

  constructor(deps: ProcessorDeps) {
    this.#deps = deps;
    this.#o = deps.options;
    this.#timer = deps.options.timer;
    this.#now = deps.options.clock.now();
    this.#check = telemetryChecker({ maxRecordBytes: this.#o.maxRecordBytes, maxSkewMs: this.#o.maxSkewMs, now: () => this.#now });
  }

  init(context: ProcessorContext<Uint8Array | null, ServingOutput>): void {
    this.#ctx = context;
    this.#store = context.getStore<string, DeviceSlot>(DEVICE_STATE_STORE);
  }

  control(record: Control): void | Promise<void> {
    return this.#deps.manager.offer(record);
  }

  process(record: In): void | Promise<void> {
    const started = this.#timer();
    this.#timed = this.#untilTimed === 0;
    this.#untilTimed = (this.#timed ? this.#o.latencySampleEvery : this.#untilTimed) - 1;
    const checked = this.#check(record.key, record.value);
    if (checked instanceof Rejection) return this.#deadLetter(record, checked.reason, checked.message);
    const t = checked;
    const store = this.#store;
    let slot = store.get(t.deviceId);
    if (slot === undefined) {
      if (store.size >= this.#o.maxDevicesPerTask) {
        return this.#deadLetter(record, DlqReason.capacity, `this task already holds the state of ${store.size} devices (maxDevicesPerTask)`);
      }
      slot = new DeviceSlot(t.deviceId);
      store.put(t.deviceId, slot);
    }
    const { manager, counters } = this.#deps;
    counters.records++;
    manager.sample.offer(t.ts, t.metrics);
    const table = manager.table;
    const cls = t.tags?.[this.#o.classTag];
    if (slot.routeGeneration !== table.generation || slot.routeClass !== cls) {
      slot.routeGeneration = table.generation;
      slot.routeClass = cls;
      slot.route = route(table, t.deviceId, cls);
      if (this.#o.ensemble !== null) slot.ensemble = members(table, this.#o.ensemble.models, t.deviceId, cls);
    }
    const obs: Observation = { ts: t.ts, values: t.metrics };
    if (this.#o.ensemble !== null) return this.#ensemble(record, t, slot, table, obs, started);
    const m = slot.route;
    if (m === null) {
      counters.unrouted++;
      return undefined;
    }
    const r = this.#score(slot, LIVE_SERIES, m, obs);
    if (r === null) return this.#deadLetter(record, 'scoring', `model '${m.name}' v${m.version} failed on this record`);
    this.#dirty.add(slot);
    const shadow = table.shadows.get(m.name);
    if (shadow !== undefined) this.#shadow(slot, shadow, m, obs, r);
    return this.#emit(record, t, m, r, obs, started, undefined);
  }

  flush(): void {
    this.#now = this.#o.clock.now();
    this.#spent.clear();
    if (this.#dirty.size === 0) return;
    const now = this.#ctx.wallClockTime();
    const elapsed = now - this.#lastFlush;
    this.#lastFlush = now;
    const interval = this.#o.stateCheckpointMs;
    // Fractions of a device carry over to the next batch, so short batches don't round up.
    this.#credit = interval === 0 || elapsed >= interval ? this.#dirty.size : this.#credit + (this.#dirty.size * elapsed) / interval;
    for (const slot of this.#dirty) {
      if (this.#credit < 1) break;
      this.#credit--;
      this.#store.put(slot.deviceId, slot);
      this.#dirty.delete(slot);
    }
  }

  /**
   * Scores `obs` with `m` under the series `key`; null when the model throws or gives no valid
   * score. The time of score + decide goes to the model's latency histogram on timed records.
   */
  #score(slot: DeviceSlot, key: string, m: LiveModel, obs: Observation): Result | null {
    const series = attach(slot, key, m, this.#deps.counters);
    const timed = this.#timed;
    const t0 = timed ? this.#timer() : 0;
    let score: number;
    try {
      score = m.model.score(series.state, obs);
    } catch (error) {
      this.#modelFailed(m, error instanceof Error ? error.message : String(error));
      return null;
    }
    if (!(score >= 0 && score <= 1)) {
      this.#modelFailed(m, `score ${String(score)} is not a number in [0, 1]`);
      return null;
    }
    const decision = series.decider!.decide(score, obs.ts);
    const stats = m.stats;
    if (timed) stats.latency.record(this.#timer() - t0);
    stats.scored++;
    if (decision.anomaly) stats.anomalies++;
    return { score, decision, series };
  }

  #modelFailed(m: LiveModel, error: string): void {
    if (m.stats.errors++ === 0) this.#deps.logger.log('warn', 'model failed on a record', { name: m.name, version: m.version, error, task: this.#ctx.taskId });
  }

  #shadow(slot: DeviceSlot, shadow: LiveModel, live: LiveModel, obs: Observation, liveResult: Result): void {
    const r = this.#score(slot, shadowSeries(live.name), shadow, obs);
    if (r === null) return;
    const a = shadow.stats.shadow;
    a.compared++;
    if (r.decision.anomaly === liveResult.decision.anomaly) a.agreed++;
    a.sumAbsDelta += Math.abs(r.score - liveResult.score);
    if (a.against?.version !== live.version || a.against.name !== live.name) a.against = { name: live.name, version: live.version };
  }

  #ensemble(record: In, t: Telemetry, slot: DeviceSlot, table: ModelTable, obs: Observation, started: number): void | Promise<void> {
    const list = slot.ensemble;
    const cfg = this.#o.ensemble!;
    if (list.length === 0) {
      this.#deps.counters.unrouted++;
      return undefined;
    }
    const results: MemberResult[] = [];
    let best: LiveModel | null = null;
    let bestResult: Result | null = null;
    for (let i = 0; i < list.length; i++) {
      const m = list[i]!;
      const budgeted = i > 0;
      if (budgeted && (this.#spent.get(m) ?? 0) > cfg.budgetMs) {
        m.stats.dropped++;
        continue;
      }
      const t0 = this.#timer();
      const r = this.#score(slot, memberSeries(m.name), m, obs);
      if (budgeted) {
        const spent = (this.#spent.get(m) ?? 0) + (this.#timer() - t0);
        this.#spent.set(m, spent);
        if (spent > cfg.budgetMs) {
          m.stats.dropped++;
          continue;
        }
      }
      if (r === null) {
        if (i === 0) return this.#deadLetter(record, 'scoring', `model '${m.name}' v${m.version} failed on this record`);
        continue;
      }
      results.push({ name: m.name, version: m.version, score: r.score, likelihood: r.decision.likelihood, anomaly: r.decision.anomaly });
      if (bestResult === null || r.decision.likelihood > bestResult.decision.likelihood) {
        best = m;
        bestResult = r;
      }
      const shadow = table.shadows.get(m.name);
      if (shadow !== undefined) this.#shadow(slot, shadow, m, obs, r);
    }
    this.#dirty.add(slot);
    const combined = combine(results, cfg.combine, cfg.threshold);
    const r: Result = { score: combined.score, decision: combined.decision, series: bestResult!.series };
    return this.#emit(record, t, best!, r, obs, started, { combine: cfg.combine, members: results });
  }

  #emit(record: In, t: Telemetry, m: LiveModel, r: Result, obs: Observation, started: number, ensemble: ScoredRecord['ensemble']): void | Promise<void> {
    const anomalous = r.decision.anomaly;
    const scores = this.#o.topics.scores !== null;
    if (!anomalous && !scores) return undefined;
    let contributors: ScoredRecord['contributors'] = [];
    if (anomalous) {
      try {
        contributors = topContributors(m.model.explain(r.series.state, obs), this.#o.contributors);
      } catch {
        contributors = [];
      }
    }
    const out: ScoredRecord = {
      deviceId: t.deviceId,
      ts: t.ts,
      ...(t.seq === undefined ? {} : { seq: t.seq }),
      score: r.score,
      decision: r.decision,
      model: { name: m.name, version: m.version },
      contributors,
      scoredAt: this.#o.clock.now(),
      processingMs: Math.round((this.#timer() - started) * 1000) / 1000,
      ...(ensemble === undefined ? {} : { ensemble }),
    };
    const bytes = encoder.encode(JSON.stringify(out));
    const key = record.key ?? encoder.encode(t.deviceId);
    const a = anomalous ? this.#ctx.forward({ key, value: { to: OutputTopic.anomalies, bytes }, timestamp: record.timestamp }) : undefined;
    const b = scores ? this.#ctx.forward({ key, value: { to: OutputTopic.scores, bytes }, timestamp: record.timestamp }) : undefined;
    return a === undefined && b === undefined ? undefined : Promise.all([a, b]).then(() => undefined);
  }

  #deadLetter(record: In, reason: DlqReason | 'scoring', message: string): void | Promise<void> {
    this.#deps.counters.dlq[reason]++;
    return this.#ctx.forward({
      key: record.key,
      value: { to: OutputTopic.dlq, bytes: record.value },
      timestamp: record.timestamp,
      headers: deadLetterHeaders(record.headers, record.origin, reason, message),
    });
  }
}

/** Combines ensemble members' results (see the file comment). */
export function combine(results: readonly MemberResult[], how: 'max' | 'mean' | 'vote', threshold: number): { score: number; decision: Decision } {
  const n = results.length;
  let maxScore = 0;
  let maxLikelihood = 0;
  let sumScore = 0;
  let sumLikelihood = 0;
  let votes = 0;
  for (const r of results) {
    if (r.score > maxScore) maxScore = r.score;
    if (r.likelihood > maxLikelihood) maxLikelihood = r.likelihood;
    sumScore += r.score;
    sumLikelihood += r.likelihood;
    if (r.anomaly) votes++;
  }
  if (how === 'max') return { score: maxScore, decision: { likelihood: maxLikelihood, anomaly: maxLikelihood >= threshold } };
  if (how === 'mean') {
    const likelihood = sumLikelihood / n;
    return { score: sumScore / n, decision: { likelihood, anomaly: likelihood >= threshold } };
  }
  return { score: sumScore / n, decision: { likelihood: votes / n, anomaly: votes * 2 > n } };
}
