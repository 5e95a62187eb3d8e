/**
 * Per-task counters (DESIGN.md §6.8): records in and out, failures by outcome, punctuations,
 * stream time, committed offset, processing latency, throughput, lag and control records. The
 * runtime and the test driver expose snapshots of them; the Prometheus exporter of a later issue
 * reads the same snapshots.
 *
 * Lag is the input partition's end offset minus the next offset the task will process. The end
 * offset is sampled (the runtime reads it from its consumer at most once per `lagRefreshMs` of run(), and
 * as soon as a task is created), so lag can be that much out of date; the position is live.
 * Throughput is input records per second of the injected clock, decayed over about
 * `throughputWindowMs` (rate.ts).
 */
import { DecayingRate } from './rate.ts';

/** Defaults of the task metrics: the time constant of the throughput rate. */
export const METRICS_DEFAULTS = { throughputWindowMs: 10_000 } as const;

/** A snapshot of one task's metrics. */
export interface TaskMetrics {
  readonly taskId: string;
  readonly topic: string;
  readonly partition: number;
  /** Input records read (including ones that then failed). */
  readonly recordsIn: number;
  /** Records handed to sinks (topics, including repartition and dead-letter topics) and forEach. */
  readonly recordsOut: number;
  /** Record failures seen (deserialization, invalid timestamp, processing), whatever the outcome. */
  readonly errors: number;
  /** Failed records skipped by the `skip` policy. */
  readonly skipped: number;
  /** Failed records sent to the dead-letter topic. */
  readonly deadLettered: number;
  /** Punctuator calls. */
  readonly punctuations: number;
  /** Records that arrived after (some of) their windows closed (sent to the late-record stream). */
  readonly lateRecords: number;
  /** Largest event time seen, or -1. */
  readonly streamTime: number;
  /** Next offset to read that was last committed (or handed to the commit), or null. */
  readonly committedOffset: number | null;
  /** Processing time per record in ms, averaged over each batch: last batch, mean, max. */
  readonly processingLatencyMs: { readonly last: number; readonly avg: number; readonly max: number };
  /** Entries per state store of the task (keyValue stores and tables), by store name. */
  readonly stateEntries: Readonly<Record<string, number>>;
  /** Input records per second, exponentially decayed over about 10 s of the injected clock. */
  readonly recordsPerSecond: number;
  /**
   * Records of the input partition not processed yet: the sampled end offset minus the next
   * offset to process (≥ 0); null until an end offset was sampled.
   */
  readonly lag: number | null;
  /** Control records applied to this task's connected processors (replayed ones included). */
  readonly controlRecords: number;
}

/** What a snapshot needs from its task. */
export interface TaskSnapshotSource {
  readonly id: string;
  readonly topic: string;
  readonly partition: number;
  readonly streamTime: number;
  /** Next offset the task will process (null: none processed yet). */
  readonly nextOffset: number | null;
}

/** The mutable counters behind {@link TaskMetrics}. */
export class TaskMetricsRecorder {
  recordsIn = 0;
  recordsOut = 0;
  errors = 0;
  skipped = 0;
  deadLettered = 0;
  punctuations = 0;
  lateRecords = 0;
  committedOffset: number | null = null;
  controlRecords = 0;
  readonly #rate = new DecayingRate(METRICS_DEFAULTS.throughputWindowMs);
  #endOffset: number | null = null;
  #startOffset = 0;
  #latencyLast = 0;
  #latencyMax = 0;
  #latencyTotalMs = 0;
  #latencyRecords = 0;

  /** Records a batch of `records` input records: its processing time, and its size at `now` (ms of the injected clock) for the throughput. */
  batch(records: number, elapsedMs: number, now: number): void {
    if (records === 0) return;
    this.#rate.add(records, now);
    const perRecord = elapsedMs / records;
    this.#latencyLast = perRecord;
    this.#latencyMax = Math.max(this.#latencyMax, perRecord);
    this.#latencyTotalMs += elapsedMs;
    this.#latencyRecords += records;
  }

  /**
   * Samples the input partition's end offset; `position` is the next offset to process, used
   * until the task has processed a record.
   */
  observeEnd(endOffset: number, position: number): void {
    this.#endOffset = endOffset;
    this.#startOffset = position;
  }

  /** A frozen snapshot at `now` (ms of the injected clock). */
  snapshot(task: TaskSnapshotSource, now: number, stateEntries: Readonly<Record<string, number>> = {}): TaskMetrics {
    const end = this.#endOffset;
    return Object.freeze({
      taskId: task.id,
      topic: task.topic,
      partition: task.partition,
      recordsIn: this.recordsIn,
      recordsOut: this.recordsOut,
      errors: this.errors,
      skipped: this.skipped,
      deadLettered: this.deadLettered,
      punctuations: this.punctuations,
      lateRecords: this.lateRecords,
      streamTime: task.streamTime,
      committedOffset: this.committedOffset,
      processingLatencyMs: Object.freeze({
        last: this.#latencyLast,
        avg: this.#latencyRecords === 0 ? 0 : this.#latencyTotalMs / this.#latencyRecords,
        max: this.#latencyMax,
      }),
      stateEntries: Object.freeze(stateEntries),
      recordsPerSecond: this.#rate.perSecond(now),
      lag: end === null ? null : Math.max(0, end - (task.nextOffset ?? this.#startOffset)),
      controlRecords: this.controlRecords,
    });
  }
}
