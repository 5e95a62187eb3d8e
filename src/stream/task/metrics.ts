/**
 * Per-task counters (DESIGN.md §6.8): records in and out, failures by outcome, punctuations,
 * stream time, committed offset and processing latency. The runtime and the test driver expose
 * snapshots of them; the Prometheus exporter of a later issue reads the same snapshots.
 */

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
  #latencyLast = 0;
  #latencyMax = 0;
  #latencyTotalMs = 0;
  #latencyRecords = 0;

  /** Records the processing time of a batch of `records` input records. */
  batch(records: number, elapsedMs: number): void {
    if (records === 0) return;
    const perRecord = elapsedMs / records;
    this.#latencyLast = perRecord;
    this.#latencyMax = Math.max(this.#latencyMax, perRecord);
    this.#latencyTotalMs += elapsedMs;
    this.#latencyRecords += records;
  }

  /** A frozen snapshot. */
  snapshot(task: { readonly id: string; readonly topic: string; readonly partition: number; readonly streamTime: number }, stateEntries: Readonly<Record<string, number>> = {}): TaskMetrics {
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
    });
  }
}
