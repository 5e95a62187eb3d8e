/**
 * The scoring service's public face: `startServing()` runs an instance; the models topic helpers
 * publish descriptors (live, shadow, rollback); the record formats of `anomalies` and
 * `telemetry.dlq`; options and reports.
 */
export { startServing, type ServingHandle } from './service.ts';
export {
  EnsembleCombine,
  SERVING_DEFAULTS,
  resolveServingOptions,
  type EnsembleOptions,
  type HttpOptions,
  type ResolvedServingOptions,
  type ServingOptions,
  type ServingStreamOptions,
  type ServingTopics,
  type ShadowOption,
} from './options.ts';
export { anomalyCodec, topContributors, type Contributor, type MemberResult, type ScoredRecord } from './anomaly.ts';
export { DlqHeader } from './dead-letter.ts';
export { DlqReason, Rejection, telemetryChecker, type TelemetryCheck, type TelemetryCheckOptions } from './telemetry-check.ts';
export { CarryOver, IgnoreReason, RejectReason } from './counters.ts';
export { DEFAULT_MODEL, classModelName, deviceModelName, route, ModelRole, ModelSource, type LiveModel, type ModelTable } from './live-model.ts';
export { ensureModelsTopic, latestPublished, publishDescriptor, readModelsTopic, type ModelRecord, type PublishedModel } from './models-topic.ts';
export { DEFAULT_MODELS_TOPIC, ModelHeader, shadowKey } from '../model/index.ts';
export { ModelManager, deciderOptionsFor, type ModelManagerOptions } from './model-manager.ts';
export { ObservationSample, probeBatch, probeModel } from './probe.ts';
export { LatencyHistogram, type LatencySummary } from './latency.ts';
export { jsonLinesLogger, memoryLogger, LogLevel, type LogLine, type ServingLogger } from './logger.ts';
export { DEVICE_STATE_STORE } from './processor.ts';
export { statusOf } from './http.ts';
export type { LatencyReport, ModelReport, ModelsReport, ServingMetrics, ShadowReport } from './report.ts';
