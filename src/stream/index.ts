/**
 * The public face of the stream layer: describe a topology with `topology()`, run it on a log with
 * `run()`, or test it in-process with `TopologyTestDriver`.
 */
export { TOMBSTONE_HEADER, type KeyValue, type RecordOrigin, type StreamRecord } from './record.ts';
export { type Clock, ManualClock, systemClock } from './clock.ts';
export { topology, TopologyBuilder, type TopologyOptions, type SourceOptions } from './topology/builder.ts';
export {
  Stream,
  MAP_ASYNC_DEFAULT_CONCURRENCY,
  type BranchOptions,
  type CodecOptions,
  type GroupOptions,
  type MapAsyncOptions,
  type ProcessOptions,
  type NamedOptions,
  type RepartitionOptions,
} from './topology/stream.ts';
export { Topology } from './topology/topology.ts';
export { NodeKind, resolveTopic, type TimestampExtractor, type TopicRef, type TopologyNode } from './topology/nodes.ts';
export { ErrorAction, ERROR_POLICY_DEFAULTS, errorPolicy, type ErrorPolicy, type ErrorPolicyOptions } from './topology/error-policy.ts';
export {
  PunctuationType,
  UNKNOWN_STREAM_TIME,
  type Cancellable,
  type ConnectedProcessor,
  type ConnectedProcessorSupplier,
  type ForwardedRecord,
  type Processor,
  type ProcessorContext,
  type ProcessorSupplier,
  type Punctuator,
} from './processor/api.ts';
export { ControlStream, type ControlListener, type ControlListenerSupplier, type ControlOptions } from './control/stream.ts';
export type { ControlMetrics } from './control/state.ts';
export { FailureKind, isRecordFailure, type RecordFailure } from './failure.ts';
export { DeadLetterHeader } from './task/dead-letter.ts';
export type { TaskMetrics } from './task/metrics.ts';
export { TopologyTestDriver, type TestDriverOptions } from './testing/driver.ts';
export { TestInputTopic, TestOutputTopic, type PipeOptions, type TestRecord } from './testing/topics.ts';
export type { KeyValueStore } from './state/store.ts';
export { StoreKind, changelogTopic, type StoreOptions, type StoreSpec } from './state/spec.ts';
export { Table } from './table/table.ts';
export { GroupedStream, type AggregateOptions } from './table/grouped.ts';
export {
  TimeWindows,
  SlidingWindows,
  SessionWindows,
  WindowKind,
  untilWindowCloses,
  type Windowed,
  type Windows,
  type WindowUpdate,
  type Suppression,
} from './window/windows.ts';
export { WindowedGroupedStream, type WindowedAggregateOptions, type WindowedAggregateValueOptions } from './window/grouped.ts';
export { WindowedTable } from './window/table.ts';
export { windowedCodec } from './window/codec.ts';
export { LATE_HEADER } from './window/aggregate.ts';
export type { Adder } from './table/aggregate.ts';
export type { JoinOptions } from './table/join.ts';
export { WorkerPool, WORKER_POOL_DEFAULTS, type WorkerPoolOptions, type WorkerPoolStats } from './worker/pool.ts';
export { run } from './runtime/run.ts';
export { StreamApp, AppState, BATCH_CHANNEL, type AppMetrics } from './runtime/app.ts';
export { DeliveryMode, RUN_DEFAULTS, type RunOptions } from './runtime/options.ts';
