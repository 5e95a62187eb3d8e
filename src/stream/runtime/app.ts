/**
 * A running topology instance: the poll → process → commit loop, and the handle `run()` returns
 * (state, error, metrics, close). Records are polled (at most `maxBatchRecords`) and processed by
 * their partitions' tasks concurrently; the delivery mode's committer takes each processed batch
 * and commits at commit points (every `commitIntervalMs`, when idle, before partitions are revoked
 * and on close): at-least-once pipelined (commit-alo.ts), exactly-once in transactions of one or
 * more batches (commit-eos.ts). A batch's processing and its hand-over to the committer run
 * alone: a revocation's commit (which may come from the log client at any time) waits for them.
 */
import { channel } from 'node:diagnostics_channel';
import type { Consumer, LogRecord, TopicPartitionOffset } from '../../log/types.ts';
import type { Clock } from '../clock.ts';
import type { BufferCollector } from '../task/collector.ts';
import type { TaskMetrics } from '../task/metrics.ts';
import type { StreamTask } from '../task/task.ts';
import type { CommitContext, Committer, ProcessedBatch } from './committer.ts';
import type { Delivery } from './delivery.ts';
import type { BatchInfo } from './pipeline.ts';
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
  /** Exactly-once: transactions (each of one or more batches) committed and aborted (both 0 at-least-once). */
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
  /** Least time between commit points (0: every batch). */
  readonly commitIntervalMs: number;
  /** Makes the delivery mode's committer. */
  readonly committer: (context: CommitContext) => Committer;
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
  readonly #committer: Committer;
  /** Settles when the batch or commit running now is done (they never overlap). */
  #lock: Promise<unknown> = Promise.resolve();
  readonly #done: Promise<void>;

  /** Starts the loop (made by `run()`). */
  constructor(parts: AppParts) {
    this.#parts = parts;
    this.applicationId = parts.applicationId;
    this.#committer = parts.committer({
      tasks: parts.tasks,
      collector: parts.collector,
      consumer: parts.consumer,
      commitIntervalMs: parts.commitIntervalMs,
      committed: (offsets, batches) => this.#committed(offsets, batches),
      rebalanced: () => this.#rebalanced++,
    });
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
    const committer = this.#committer;
    p.tasks.beforeRevoke = () => this.#exclusive(() => committer.commitAll());
    try {
      while (!this.#stopping) {
        const records = await p.consumer.poll({ maxRecords: p.maxBatchRecords, timeoutMs: p.pollTimeoutMs });
        await this.#exclusive(async () => committer.add(await this.#processBatch(records)));
      }
      await this.#exclusive(() => committer.commitAll());
    } catch (error) {
      this.#error = error instanceof Error ? error : new Error(String(error));
      await this.#exclusive(() => committer.salvage());
    }
    p.tasks.beforeRevoke = null;
    await this.#shutdown();
  }

  /** Runs `step` once the step before it is done. */
  #exclusive(step: () => Promise<void>): Promise<void> {
    const run = this.#lock.then(step);
    this.#lock = run.catch(() => {});
    return run;
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
  async #processBatch(records: readonly LogRecord[]): Promise<ProcessedBatch> {
    const started = performance.now();
    const byTask = await this.#process(records);
    const offsets: TopicPartitionOffset[] = [];
    for (const task of byTask.keys()) offsets.push({ topic: task.topic, partition: task.partition, offset: task.nextOffset! });
    const outputs = this.#parts.collector.take();
    return { byTask, outputs, offsets, info: { records: records.length, outputs: outputs.length, started } };
  }

  /** Notes a commit: metrics, tasks' committed offsets, one BATCH_CHANNEL message per batch. */
  #committed(offsets: readonly TopicPartitionOffset[], batches: readonly BatchInfo[]): void {
    this.#batches += batches.length;
    for (const o of offsets) this.#parts.tasks.get(o)?.committed(o.offset);
    if (batchChannel.hasSubscribers) {
      for (const b of batches) batchChannel.publish({ applicationId: this.applicationId, records: b.records, outputs: b.outputs, durationMs: performance.now() - b.started });
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
