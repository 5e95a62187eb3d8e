/**
 * A stream task: the unit of work and of scaling, one per input partition (topic, partition). It
 * owns a fresh processor graph, the partition's stream time and punctuation schedules, and applies
 * the topology's error policy to every record failure. It does not talk to the log: input comes in
 * batches from the runtime (or the test driver), outputs go to a {@link RecordCollector}, and
 * `nextOffset` says how far the input may be committed once those outputs, and the changelog
 * records `prepareCommit()` hands over, are acknowledged. An exactly-once runtime wraps the same
 * calls in a transaction per commit interval.
 *
 * A task whose graph has connected processors (`stream.connect(control, …)`) attaches to the
 * instance's control streams when its state is restored: it is first replayed the current control
 * state, then gets every new control record (`applyControl`) before the data records polled after
 * it. Control records do not move stream time; failures of `control()` follow the error policy
 * like data records (dead letters carry the control record); records a connected processor
 * forwards from `control()` go out with the task's next batch.
 */
import type { LogRecord } from '../../log/types.ts';
import type { Clock } from '../clock.ts';
import type { ControlEntry, ControlTarget } from '../control/state.ts';
import { deserializationError, invalidTimestampError, isRecordFailure, NO_OFFSET, type RecordFailure } from '../failure.ts';
import { UNKNOWN_STREAM_TIME, type Cancellable, type Punctuator, type PunctuationType } from '../processor/api.ts';
import { buildGraph, type TaskGraph } from '../processor/graph.ts';
import type { MaybePromise } from '../processor/maybe-async.ts';
import { PunctuationSchedules } from '../processor/punctuation.ts';
import type { ProcessorNode } from '../processor/node.ts';
import type { TaskServices } from '../processor/services.ts';
import { isTombstone } from '../record.ts';
import { TaskStores, type TaskStateContext } from '../state/task-stores.ts';
import type { AnyRecord, SourceNode } from '../topology/nodes.ts';
import type { Topology } from '../topology/topology.ts';
import type { RecordCollector } from './collector.ts';
import { deadLetter } from './dead-letter.ts';
import { TaskMetricsRecorder, type TaskMetrics } from './metrics.ts';

/** Records between two looks at how long the collector's oldest output has waited. */
const DELAY_CHECK_EVERY = 16;

/** What a task needs. */
export interface TaskOptions {
  readonly topology: Topology;
  readonly applicationId: string;
  /** The task's input: a resolved topic name and a partition. */
  readonly topic: string;
  readonly partition: number;
  readonly clock: Clock;
  readonly collector: RecordCollector;
  /** Where stores restore from (absent: stores start empty and are never restored). */
  readonly state?: TaskStateContext;
}

/** Id of the task for `topic`/`partition`. */
export function taskId(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** One input partition's processing. */
export class StreamTask implements ControlTarget {
  readonly id: string;
  readonly topic: string;
  readonly partition: number;
  readonly controlTopics: ReadonlySet<string>;
  readonly #options: TaskOptions;
  readonly #source: SourceNode;
  readonly #graph: TaskGraph;
  readonly #schedules = new PunctuationSchedules();
  readonly #metrics = new TaskMetricsRecorder();
  readonly #stores: TaskStores;
  /** The connected processors' nodes, by control topic. */
  readonly #connected = new Map<string, ProcessorNode[]>();
  #streamTime = UNKNOWN_STREAM_TIME;
  #nextOffset: number | null = null;
  /** The batch being processed, to find the original bytes of a failed record. */
  #batch: readonly LogRecord[] = [];

  /** Builds the processor graph (running every processor's `init`). */
  constructor(options: TaskOptions) {
    this.#options = options;
    this.topic = options.topic;
    this.partition = options.partition;
    this.id = taskId(options.topic, options.partition);
    const source = options.topology.sourceFor(options.topic, options.applicationId);
    if (source === undefined) throw new Error(`no source reads topic '${options.topic}'`);
    this.#source = source;
    this.#stores = new TaskStores({
      topology: options.topology,
      applicationId: options.applicationId,
      sourceNode: source.name,
      partition: options.partition,
      context: options.state,
      send: (record) => this.#send(record),
      timestamp: () => (this.#streamTime === UNKNOWN_STREAM_TIME ? options.clock.now() : this.#streamTime),
    });
    this.#graph = buildGraph(options.topology, source, this.#services());
    for (const pn of this.#graph.nodes) {
      const node = options.topology.node(pn.name);
      if (node?.kind !== 'connect') continue;
      const control = options.topology.node(node.control);
      if (control?.kind !== 'control') continue;
      const list = this.#connected.get(control.topic.name) ?? [];
      list.push(pn);
      this.#connected.set(control.topic.name, list);
    }
    this.controlTopics = new Set(this.#connected.keys());
  }

  /** The largest event time this task has seen, or -1. */
  get streamTime(): number {
    return this.#streamTime;
  }

  /** Offset to commit once this task's outputs so far are acknowledged (null: nothing read). */
  get nextOffset(): number | null {
    return this.#nextOffset;
  }

  /** A snapshot of the task's metrics. */
  metrics(): TaskMetrics {
    return this.#metrics.snapshot(this, this.#options.clock.now(), this.#stores.sizes());
  }

  /**
   * Samples the end offset of the task's input partition (the lag metric); `position` is the next
   * offset to process, used while the task has processed nothing.
   */
  observeEndOffset(endOffset: number, position: number): void {
    this.#metrics.observeEnd(endOffset, position);
  }

  /**
   * Rebuilds the task's stores from their changelogs and, if it has connected processors,
   * attaches it to the instance's control streams (replaying the current control state); call
   * before the first batch.
   */
  async restoreState(): Promise<void> {
    await this.#stores.restore();
    if (this.#connected.size > 0) await this.#options.state?.controls?.attach(this);
  }

  /**
   * Applies control records, in order, to the connected processors of their topics, then flushes.
   * Rejects with the record failure when the policy says `fail`.
   */
  async applyControl(entries: readonly ControlEntry[]): Promise<void> {
    let applied = false;
    for (const { raw, record } of entries) {
      const nodes = this.#connected.get(raw.topic);
      if (nodes === undefined) continue;
      applied = true;
      this.#metrics.controlRecords++;
      for (const node of nodes) {
        try {
          const r = node.control(record);
          if (r !== undefined) await r;
        } catch (error) {
          this.#handle(error, raw);
        }
      }
    }
    if (applied) await this.flush();
  }

  /** The task's own stores (keyValue stores and tables), by name. */
  stores(): TaskStores {
    return this.#stores;
  }

  /**
   * Hands the stores' pending changelog records (the latest write per key since the last call) to
   * the collector. Call before committing the task's offsets: they may be committed once these
   * records, and the outputs collected before them, are durable.
   */
  prepareCommit(): void {
    this.#stores.flushChangelogs();
  }

  /** Bytes of the changelog records {@link prepareCommit} would hand over now. */
  pendingStateBytes(): number {
    return this.#stores.pendingChangelogBytes();
  }

  /** Notes that `offset` was committed (for metrics). */
  committed(offset: number): void {
    this.#metrics.committedOffset = offset;
  }

  /**
   * Processes a batch of this partition's records, in offset order, then flushes the graph.
   * Rejects with the record failure when the policy says `fail` (the caller must then not commit
   * the batch), or with any unexpected error.
   */
  async process(records: readonly LogRecord[]): Promise<void> {
    const started = performance.now();
    this.#batch = records;
    try {
      if (this.#stores.hasFeeds) await this.#stores.catchUp();
      const collector = this.#options.collector;
      let sinceCheck = 0;
      // An indexed loop: this async function often runs unoptimised, where for-of allocates an
      // iterator result per record.
      for (let i = 0; i < records.length; i++) {
        const raw = records[i]!;
        this.#metrics.recordsIn++;
        const r = this.#processOne(raw);
        if (r !== undefined) await r;
        if (this.#schedules.size > 0 && this.#schedules.due('stream-time', this.#streamTime)) await this.#punctuate('stream-time', this.#streamTime);
        this.#nextOffset = raw.offset + 1;
        if (++sinceCheck === DELAY_CHECK_EVERY) {
          sinceCheck = 0;
          collector.checkDelay?.();
        }
      }
      await this.flush();
    } finally {
      this.#batch = [];
      this.#metrics.batch(records.length, performance.now() - started, this.#options.clock.now());
    }
  }

  /** Fires the wall-clock punctuations due at the clock's current time. */
  async punctuateWallClock(): Promise<void> {
    const now = this.#options.clock.now();
    if (this.#schedules.size > 0 && this.#schedules.due('wall-clock', now)) {
      await this.#punctuate('wall-clock', now);
      await this.flush();
    }
  }

  /** Lets every processor emit what it holds back (mapAsync windows), parents first. */
  async flush(): Promise<void> {
    for (const node of this.#graph.nodes) {
      for (;;) {
        try {
          await node.flush();
          break;
        } catch (error) {
          this.#handle(error);
          if (isRecordFailure(error) && error.details.offset === NO_OFFSET) break;
        }
      }
    }
  }

  /** Closes every processor; errors are reported, not thrown, so every processor gets closed. */
  async close(): Promise<unknown[]> {
    this.#options.state?.controls?.detach(this);
    const errors: unknown[] = [];
    for (const node of this.#graph.nodes) {
      try {
        await node.close();
      } catch (error) {
        errors.push(error);
      }
    }
    await this.#stores.close().catch((error: unknown) => errors.push(error));
    return errors;
  }

  #processOne(raw: LogRecord): MaybePromise {
    const record = this.#decodeOrHandle(raw);
    if (record === undefined) return undefined;
    const ts = record.timestamp;
    if (this.#source.timestamp !== undefined && (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0)) {
      this.#handle(invalidTimestampError(this.#source.name, raw, ts));
      return undefined;
    }
    if (ts > this.#streamTime) this.#streamTime = ts;
    try {
      const r = this.#graph.source.process(record);
      if (r !== undefined) return r.catch((error: unknown) => this.#handle(error));
    } catch (error) {
      this.#handle(error);
    }
    return undefined;
  }

  /**
   * The decoded record, or undefined when decoding (a codec or the timestamp extractor) failed and
   * the error policy dealt with it. The try is here, returning from inside it, and not around the
   * codec calls in #decode: with their results assigned inside a try and used after it, V8's code
   * for those calls was ~65 ns a record slower.
   */
  #decodeOrHandle(raw: LogRecord): AnyRecord | undefined {
    try {
      return this.#decode(raw);
    } catch (error) {
      this.#handle(deserializationError(this.#source.name, raw, error));
      return undefined;
    }
  }

  /**
   * Decodes key and value with the source's codecs and takes the record's timestamp (its
   * extractor's, unchecked: see #processOne); throws what the codecs or the extractor throw.
   */
  #decode(raw: LogRecord): AnyRecord {
    const source = this.#source;
    const key = raw.key === null ? null : source.keyCodec.decode(raw.key);
    const value = isTombstone(raw.value, raw.headers) ? null : source.valueCodec.decode(raw.value);
    const timestamp = source.timestamp === undefined ? raw.timestamp : source.timestamp(raw, { key, value }, this.#streamTime);
    // a LogRecord is a RecordOrigin: no copy per record
    return { key, value, timestamp, headers: raw.headers, origin: raw };
  }

  /**
   * Applies the error policy to a failure; rethrows under `fail` and for anything unexpected.
   * `raw` is the failed record when it is not in the batch (a control record).
   */
  #handle(error: unknown, raw?: LogRecord): void {
    if (!isRecordFailure(error)) throw error;
    this.#metrics.errors++;
    const { errors } = this.#options.topology;
    const action = error.details.kind === 'deserialization' ? errors.deserialization : errors.processing;
    if (action === 'fail') throw error;
    const failed = raw ?? (error.details.offset === NO_OFFSET ? undefined : this.#find(error.details.offset));
    if (action === 'dead-letter' && failed !== undefined) {
      this.#send(deadLetter(failed, error as RecordFailure, errors.deadLetterTopic!, this.#options.applicationId));
      this.#metrics.deadLettered++;
    } else {
      this.#metrics.skipped++;
    }
  }

  #find(offset: number): LogRecord | undefined {
    const batch = this.#batch;
    for (let i = batch.length - 1; i >= 0; i--) if (batch[i]!.offset === offset) return batch[i];
    return undefined;
  }

  async #punctuate(type: PunctuationType, now: number): Promise<void> {
    try {
      await this.#schedules.fire(type, now, () => this.#metrics.punctuations++);
    } catch (error) {
      this.#handle(error);
    }
  }

  #send(record: Parameters<RecordCollector['send']>[0]): void {
    this.#metrics.recordsOut++;
    this.#options.collector.send(record);
  }

  #services(): TaskServices {
    const { applicationId, topic, partition, clock } = this.#options;
    return {
      applicationId,
      taskId: this.id,
      topic,
      partition,
      streamTime: () => this.#streamTime,
      wallClockTime: () => clock.now(),
      send: (record) => this.#send(record),
      countOutput: () => this.#metrics.recordsOut++,
      countLateRecord: () => this.#metrics.lateRecords++,
      schedule: (node: string, type: PunctuationType, intervalMs: number, punctuator: Punctuator): Cancellable =>
        this.#schedules.add(node, type, intervalMs, punctuator, type === 'stream-time' ? this.#streamTime : clock.now()),
      store: (node, name) => this.#stores.get(node, name),
    };
  }
}
