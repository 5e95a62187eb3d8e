/**
 * A running topology instance: the poll → process → produce → commit loop, and the handle `run()`
 * returns (state, error, metrics, close). Records are polled (at most `maxBatchRecords`) and
 * processed by their partitions' tasks concurrently.
 *
 * At-least-once, the loop is pipelined (pipeline.ts): a batch's outputs are produced and, while the
 * log acknowledges them, the next batch is polled and processed; at most `maxInFlightBatches`
 * batches are unacknowledged (then the loop waits: a slow sink slows the source). Input offsets
 * are committed every `commitIntervalMs`, when idle, before partitions are revoked and on close,
 * and only those of batches whose outputs — and every earlier batch's — are acknowledged. If a
 * send fails, the application stops; the offsets of the batches acknowledged before the failed one
 * are committed, none after it (they are re-processed on restart: duplicates, never losses).
 *
 * In exactly-once mode the produce and the commit are one transaction (delivery-eos.ts); when it
 * is aborted, the batch's partitions are rewound to their committed offsets and every task is
 * rebuilt, so the records are processed again from the state the log holds: nothing twice.
 */
import { channel } from 'node:diagnostics_channel';
import type { Consumer, LogRecord, TopicPartitionOffset } from '../../log/types.ts';
import type { Clock } from '../clock.ts';
import type { BufferCollector } from '../task/collector.ts';
import type { TaskMetrics } from '../task/metrics.ts';
import type { StreamTask } from '../task/task.ts';
import { isPipelined, type Delivery, type PipelinedDelivery } from './delivery.ts';
import { SendPipeline, type BatchInfo } from './pipeline.ts';
import type { TaskManager } from './task-manager.ts';

/** Lifecycle of a running application. */
export const AppState = { running: 'running', closing: 'closing', closed: 'closed', failed: 'failed' } as const;
/** `running`, `closing`, `closed` or `failed`. */
export type AppState = (typeof AppState)[keyof typeof AppState];

/** Metrics of a running instance. */
export interface AppMetrics {
  readonly applicationId: string;
  readonly state: AppState;
  /** The live tasks (assigned partitions). */
  readonly tasks: readonly TaskMetrics[];
  /** Batches committed, and commits skipped because the group rebalanced meanwhile. */
  readonly batches: number;
  readonly rebalancedCommits: number;
  readonly tasksCreated: number;
  readonly tasksClosed: number;
  /** Exactly-once: batch transactions committed and aborted (both 0 at-least-once). */
  readonly transactionsCommitted: number;
  readonly transactionsAborted: number;
}

/** Diagnostics channel with one message per committed batch: { applicationId, records, outputs, durationMs }. */
export const BATCH_CHANNEL = 'sluice:stream:batch';
const batchChannel = channel(BATCH_CHANNEL);

/** What the loop needs. */
export interface AppParts {
  readonly applicationId: string;
  readonly consumer: Consumer;
  readonly delivery: Delivery;
  readonly tasks: TaskManager;
  readonly collector: BufferCollector;
  readonly clock: Clock;
  readonly maxBatchRecords: number;
  readonly pollTimeoutMs: number;
  /** At-least-once: least time between offset commits (0: every batch). */
  readonly commitIntervalMs: number;
  /** At-least-once: batches whose outputs may be unacknowledged at once (≥ 1). */
  readonly maxInFlightBatches: number;
  readonly onError: ((error: Error) => void) | undefined;
}

/** The handle of a running topology (see {@link run}). */
export class StreamApp {
  readonly applicationId: string;
  readonly #parts: AppParts;
  #state: AppState = 'running';
  #error: Error | null = null;
  #stopping = false;
  #batches = 0;
  #rebalanced = 0;
  #lastCommit = performance.now();
  readonly #done: Promise<void>;

  /** Starts the loop (made by `run()`). */
  constructor(parts: AppParts) {
    this.#parts = parts;
    this.applicationId = parts.applicationId;
    this.#done = this.#loop();
  }

  /** Current lifecycle state. */
  get state(): AppState {
    return this.#state;
  }

  /** The error that stopped the application, or null. */
  get error(): Error | null {
    return this.#error;
  }

  /** Ids of the tasks (assigned partitions) of this instance. */
  taskIds(): string[] {
    return this.#parts.tasks.tasks().map((t) => t.id);
  }

  /** A snapshot of this instance's metrics. */
  metrics(): AppMetrics {
    const tm = this.#parts.tasks;
    const tx = this.#parts.delivery.transactions();
    return {
      applicationId: this.applicationId,
      state: this.#state,
      tasks: tm.tasks().map((t) => t.metrics()),
      batches: this.#batches,
      rebalancedCommits: this.#rebalanced,
      tasksCreated: tm.created,
      tasksClosed: tm.closed,
      transactionsCommitted: tx.committed,
      transactionsAborted: tx.aborted,
    };
  }

  /** Resolves when the application has stopped; rejects with the error if it failed. */
  async stopped(): Promise<void> {
    await this.#done;
    if (this.#error !== null) throw this.#error;
  }

  /** Finishes the current batch and the outputs in flight (committing them), closes the tasks, leaves the group. Idempotent. */
  async close(): Promise<void> {
    this.#stopping = true;
    if (this.#state === 'running') this.#state = 'closing';
    await this.#done;
  }

  async #loop(): Promise<void> {
    const p = this.#parts;
    const delivery = p.delivery;
    const pipeline = isPipelined(delivery) ? new SendPipeline((outputs) => delivery.send(outputs), p.maxInFlightBatches) : null;
    if (pipeline !== null) p.tasks.beforeRevoke = () => this.#flush(delivery as PipelinedDelivery, pipeline);
    try {
      while (!this.#stopping) {
        const records = await p.consumer.poll({ maxRecords: p.maxBatchRecords, timeoutMs: p.pollTimeoutMs });
        if (pipeline === null) await this.#batch(records);
        else await this.#pipelined(records, delivery as PipelinedDelivery, pipeline);
      }
      if (pipeline !== null) await this.#flush(delivery as PipelinedDelivery, pipeline);
    } catch (error) {
      this.#error = error instanceof Error ? error : new Error(String(error));
      if (pipeline !== null) await this.#salvage(delivery as PipelinedDelivery, pipeline);
    }
    p.tasks.beforeRevoke = null;
    await this.#shutdown();
  }

  /** Processes the records by task, then fires due wall-clock punctuations. */
  async #process(records: readonly LogRecord[]): Promise<Map<StreamTask, LogRecord[]>> {
    const p = this.#parts;
    const byTask = new Map<StreamTask, LogRecord[]>();
    // Polls return each partition's records in runs: one task lookup per run, not per record.
    let list: LogRecord[] = [];
    let last: LogRecord | undefined;
    for (const r of records) {
      if (last === undefined || r.partition !== last.partition || r.topic !== last.topic) {
        const task = p.tasks.get(r);
        if (task === undefined) throw new Error(`internal: polled ${r.topic}/${r.partition} without a task`);
        list = byTask.get(task) ?? [];
        if (list.length === 0) byTask.set(task, list);
      }
      list.push(r);
      last = r;
    }
    if (byTask.size === 1) {
      for (const [task, list] of byTask) await task.process(list);
    } else {
      await Promise.all([...byTask].map(([task, list]) => task.process(list)));
    }
    for (const task of p.tasks.tasks()) await task.punctuateWallClock();
    return byTask;
  }

  /** Processes a batch; returns its tasks, the outputs they emitted and the input offsets to commit. */
  async #processBatch(records: readonly LogRecord[]) {
    const byTask = await this.#process(records);
    const offsets: TopicPartitionOffset[] = [];
    for (const task of byTask.keys()) offsets.push({ topic: task.topic, partition: task.partition, offset: task.nextOffset! });
    return { byTask, offsets, outputs: this.#parts.collector.take() };
  }

  /** At-least-once: processes a batch, hands its outputs to the pipeline, commits on the interval. */
  async #pipelined(records: readonly LogRecord[], delivery: PipelinedDelivery, pipeline: SendPipeline): Promise<void> {
    const started = performance.now();
    const { outputs, offsets } = await this.#processBatch(records);
    if (outputs.length > 0 || offsets.length > 0) {
      await pipeline.waitForRoom();
      pipeline.push(outputs, offsets, { records: records.length, outputs: outputs.length, started });
    }
    if (records.length === 0) {
      // Idle: nothing to overlap with, so finish the work in flight and commit it.
      await this.#flush(delivery, pipeline);
      return;
    }
    pipeline.retireSettled();
    if (performance.now() - this.#lastCommit >= this.#parts.commitIntervalMs) await this.#commit(delivery, pipeline);
  }

  /** Waits for every output in flight, then commits (revoke, close, idle). */
  async #flush(delivery: PipelinedDelivery, pipeline: SendPipeline): Promise<void> {
    await pipeline.drain();
    await this.#commit(delivery, pipeline);
  }

  /** Commits the offsets of the batches retired (acknowledged, in order) since the last commit. */
  async #commit(delivery: PipelinedDelivery, pipeline: SendPipeline): Promise<void> {
    this.#lastCommit = performance.now();
    if (!pipeline.hasAcknowledged) return;
    const { offsets, batches } = pipeline.take();
    const outcome = await delivery.commitOffsets(offsets);
    if (outcome === 'rebalanced') {
      this.#rebalanced++;
      return;
    }
    this.#batches += batches.length;
    const p = this.#parts;
    for (const o of offsets) p.tasks.get(o)?.committed(o.offset);
    if (batchChannel.hasSubscribers) for (const b of batches) this.#publish(b);
  }

  /**
   * After an error: commits what was acknowledged before the first failed send (as the
   * sequential loop did: every batch before the failing one committed), best effort.
   */
  async #salvage(delivery: PipelinedDelivery, pipeline: SendPipeline): Promise<void> {
    await pipeline.drain().catch(() => {});
    await this.#commit(delivery, pipeline).catch(() => {});
  }

  #publish(b: BatchInfo): void {
    batchChannel.publish({ applicationId: this.applicationId, records: b.records, outputs: b.outputs, durationMs: performance.now() - b.started });
  }

  /** Exactly-once: one batch, one transaction, committed before the next poll. */
  async #batch(records: readonly LogRecord[]): Promise<void> {
    const p = this.#parts;
    const started = performance.now();
    const { byTask, outputs, offsets } = await this.#processBatch(records);
    if (outputs.length === 0 && offsets.length === 0) return;
    const outcome = await p.delivery.commitBatch(outputs, offsets);
    if (outcome === 'aborted') {
      await this.#rewind(byTask);
      return;
    }
    if (outcome === 'rebalanced') {
      this.#rebalanced++;
      return;
    }
    this.#batches++;
    for (const o of offsets) p.tasks.get(o)?.committed(o.offset);
    if (batchChannel.hasSubscribers) this.#publish({ records: records.length, outputs: outputs.length, started });
  }

  /**
   * After an aborted transaction: seeks the batch's partitions back to their committed offsets
   * (or, never committed, to the batch's first record) and rebuilds every task (all of them may
   * have emitted into the aborted transaction, punctuators included), dropping anything their
   * closing processors emitted.
   */
  async #rewind(byTask: ReadonlyMap<StreamTask, readonly LogRecord[]>): Promise<void> {
    const p = this.#parts;
    const batch = [...byTask].map(([task, list]) => ({ topic: task.topic, partition: task.partition, first: list[0]!.offset }));
    const committed = batch.length === 0 ? [] : await p.consumer.committed(batch.map(({ topic, partition }) => ({ topic, partition })));
    await p.tasks.rebuild();
    p.collector.take();
    for (const [i, b] of batch.entries()) {
      await p.consumer.seek({ topic: b.topic, partition: b.partition }, { offset: committed[i]?.offset ?? b.first });
    }
  }

  async #shutdown(): Promise<void> {
    const p = this.#parts;
    const note = (error: unknown): void => {
      if (this.#error === null) this.#error = error instanceof Error ? error : new Error(String(error));
    };
    await p.tasks.closeAll().catch(note);
    if (p.tasks.closeErrors.length > 0) note(p.tasks.closeErrors[0]);
    await p.consumer.close().catch(note);
    await p.delivery.close().catch(note);
    this.#state = this.#error === null ? 'closed' : 'failed';
    if (this.#error !== null) p.onError?.(this.#error);
  }
}
