/**
 * `/metrics` in the Prometheus text format (prom-client 15), one registry per instance. The hot
 * path counts in plain numbers (counters.ts, `ModelStats`); every metric here is filled from those
 * snapshots when it is scraped (`collect`), so scoring never touches prom-client.
 *
 * Serving: records, records scored / anomalies / scoring errors / ensemble drops per model
 * version, unrouted records, dead letters by reason, model swaps per model, rejections and ignored
 * descriptors by reason, state carry-over outcomes, shadow agreement, model info, readiness, and
 * the scoring latency per model version as a summary (quantiles 0.5 and 0.99 from latency.ts).
 * Stream: per task records in/out, errors, dead letters, throughput, lag, processing latency and
 * state entries; per instance batches and transactions.
 */
import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { AppMetrics } from '../stream/index.ts';
import type { ServingCounters } from './counters.ts';
import type { LiveModel } from './live-model.ts';
import type { ModelManager } from './model-manager.ts';

/** What the exporter reads. */
export interface PrometheusSources {
  readonly manager: ModelManager;
  readonly counters: ServingCounters;
  ready(): boolean;
  stream(): AppMetrics | null;
}

type Labels = Record<string, string | number>;
type Sample = readonly [Labels, number];

/** A registry with every serving and stream metric of one instance. */
export function servingRegistry(src: PrometheusSources): Registry {
  const registry = new Registry();
  const served = (): LiveModel[] => {
    const { live, shadows } = src.manager.table;
    return [...src.manager.retired, ...live.values(), ...shadows.values()];
  };
  const perModel = (value: (m: LiveModel) => number): Sample[] => served().map((m) => [{ model: m.name, version: m.version, role: m.role }, value(m)] as const);
  const byKey = (values: Readonly<Record<string, number>>, label: string): Sample[] => Object.entries(values).map(([k, v]) => [{ [label]: k }, v] as const);
  const tasks = (value: (t: AppMetrics['tasks'][number]) => number | null): Sample[] =>
    (src.stream()?.tasks ?? []).flatMap((t) => {
      const v = value(t);
      return v === null ? [] : [[{ task: t.taskId }, v] as const];
    });
  const c = src.counters;

  counter(registry, 'sluice_serving_records_total', 'Telemetry records that passed the checks', [], () => [[{}, c.records]]);
  counter(registry, 'sluice_serving_records_scored_total', 'Records scored, per model version', ['model', 'version', 'role'], () => perModel((m) => m.stats.scored));
  counter(registry, 'sluice_serving_anomalies_total', 'Records decided anomalous, per model version (emitted for live models)', ['model', 'version', 'role'], () => perModel((m) => m.stats.anomalies));
  counter(registry, 'sluice_serving_scoring_errors_total', 'Records a model threw on or gave no valid score for', ['model', 'version', 'role'], () => perModel((m) => m.stats.errors));
  counter(registry, 'sluice_serving_ensemble_dropped_total', 'Records an ensemble member was left out of (over its latency budget)', ['model', 'version', 'role'], () => perModel((m) => m.stats.dropped));
  counter(registry, 'sluice_serving_unrouted_total', 'Valid records with no live model for their device', [], () => [[{}, c.unrouted]]);
  counter(registry, 'sluice_serving_dlq_total', 'Telemetry records sent to the dead-letter topic, by reason', ['reason'], () => byKey(c.dlq, 'reason'));
  counter(registry, 'sluice_serving_model_swaps_total', 'Model versions put into service (live or shadow), per model name', ['model'], () => byKey(Object.fromEntries(c.swaps), 'model'));
  counter(registry, 'sluice_serving_model_rejections_total', 'Model descriptors rejected, by reason', ['reason'], () => byKey(c.rejections, 'reason'));
  counter(registry, 'sluice_serving_models_ignored_total', 'Valid model descriptors not taken (not newer), by reason', ['reason'], () => byKey(c.ignored, 'reason'));
  counter(registry, 'sluice_serving_state_carry_over_total', 'What happened to device state when its model changed, by outcome', ['outcome'], () => byKey(c.carryOver, 'outcome'));
  gauge(registry, 'sluice_serving_ready', '1 once the models are loaded and the stream runs', [], () => [[{}, src.ready() ? 1 : 0]]);
  gauge(registry, 'sluice_serving_model_info', 'Models in service (value 1)', ['model', 'version', 'role', 'kind', 'source'], () => {
    const { live, shadows } = src.manager.table;
    return [...live.values(), ...shadows.values()].map((m) => [{ model: m.name, version: m.version, role: m.role, kind: m.descriptor.kind, source: m.source }, 1] as const);
  });
  gauge(registry, 'sluice_serving_model_since_seconds', 'When each model in service started serving (seconds since the epoch)', ['model', 'version', 'role'], () => {
    const { live, shadows } = src.manager.table;
    return [...live.values(), ...shadows.values()].map((m) => [{ model: m.name, version: m.version, role: m.role }, m.since / 1000] as const);
  });
  const shadows = (value: (m: LiveModel) => number | null): Sample[] =>
    [...src.manager.table.shadows.values()].flatMap((m) => {
      const v = value(m);
      return v === null ? [] : [[{ model: m.name, version: m.version }, v] as const];
    });
  gauge(registry, 'sluice_serving_shadow_compared', 'Records a shadow and its live model both scored', ['model', 'version'], () => shadows((m) => m.stats.shadow.compared));
  gauge(registry, 'sluice_serving_shadow_agreement_ratio', 'Share of records on which a shadow made the live model\'s decision', ['model', 'version'], () =>
    shadows((m) => (m.stats.shadow.compared === 0 ? null : m.stats.shadow.agreed / m.stats.shadow.compared)),
  );
  gauge(registry, 'sluice_serving_shadow_score_delta_mean', 'Mean |shadow score - live score|', ['model', 'version'], () =>
    shadows((m) => (m.stats.shadow.compared === 0 ? null : m.stats.shadow.sumAbsDelta / m.stats.shadow.compared)),
  );
  registry.registerMetric(latencySummary(served) as unknown as Metric);

  counter(registry, 'sluice_stream_task_records_in_total', 'Input records read by each task', ['task'], () => tasks((t) => t.recordsIn));
  counter(registry, 'sluice_stream_task_records_out_total', 'Records each task handed to sinks', ['task'], () => tasks((t) => t.recordsOut));
  counter(registry, 'sluice_stream_task_errors_total', 'Record failures seen by each task', ['task'], () => tasks((t) => t.errors));
  counter(registry, 'sluice_stream_task_dead_lettered_total', 'Records each task sent to the dead-letter topic by the error policy', ['task'], () => tasks((t) => t.deadLettered));
  gauge(registry, 'sluice_stream_task_records_per_second', 'Input records per second of each task (decayed over ~10 s)', ['task'], () => tasks((t) => t.recordsPerSecond));
  gauge(registry, 'sluice_stream_task_lag', 'Records of each task\'s input partition not processed yet', ['task'], () => tasks((t) => t.lag));
  gauge(registry, 'sluice_stream_task_processing_latency_seconds', 'Mean processing time per record of each task', ['task'], () => tasks((t) => t.processingLatencyMs.avg / 1000));
  gauge(registry, 'sluice_stream_task_state_entries', 'Devices whose state each task keeps', ['task'], () => tasks((t) => Object.values(t.stateEntries).reduce((a, b) => a + b, 0)));
  counter(registry, 'sluice_stream_batches_total', 'Batches committed by this instance', [], () => [[{}, src.stream()?.batches ?? 0]]);
  counter(registry, 'sluice_stream_transactions_aborted_total', 'Exactly-once batch transactions aborted', [], () => [[{}, src.stream()?.transactionsAborted ?? 0]]);
  return registry;
}

function counter(registry: Registry, name: string, help: string, labelNames: readonly string[], samples: () => readonly Sample[]): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of samples()) this.inc(labels, value);
    },
  });
}

function gauge(registry: Registry, name: string, help: string, labelNames: readonly string[], samples: () => readonly Sample[]): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of samples()) this.set(labels, value);
    },
  });
}

/**
 * The scoring latency summary, built from each model's histogram (prom-client's own Summary keeps
 * its samples itself, which would mean calling it per record).
 */
function latencySummary(served: () => LiveModel[]): object {
  const name = 'sluice_serving_scoring_latency_seconds';
  const help = 'Scoring latency (score + decide) per record, per model version, measured on one record in latencySampleEvery';
  return {
    name,
    help,
    type: 'summary',
    aggregator: 'sum',
    reset() {},
    get() {
      const values: { labels: Labels; value: number; metricName?: string }[] = [];
      // A version back in service after a rollback is listed twice (retired, live): report the one serving.
      const latest = new Map(served().map((m) => [`${m.name}\u0000${m.version}\u0000${m.role}`, m]));
      for (const m of latest.values()) {
        const labels = { model: m.name, version: m.version, role: m.role };
        const h = m.stats.latency;
        for (const q of [0.5, 0.99]) values.push({ labels: { ...labels, quantile: q }, value: h.quantile(q) / 1000 });
        const s = h.summary();
        values.push({ metricName: `${name}_sum`, labels, value: s.sumMs / 1000 });
        values.push({ metricName: `${name}_count`, labels, value: s.count });
      }
      return Promise.resolve({ name, help, type: 'summary', aggregator: 'sum', values });
    },
  };
}
