/**
 * A running topology instance: the poll → process → commit loop, and the handle `run()` returns
 * (state, error, metrics, close). Records are polled (at most `maxBatchRecords`) and processed by
 * their partitions' tasks concurrently; the delivery mode's committer takes each processed batch
 * and commits at commit points (every `commitIntervalMs`, when idle, before partitions are revoked
 * and on close): at-least-once pipelined (commit-alo.ts), exactly-once in transactions of one or
 * more batches (commit-eos.ts). A batch's processing and its hand-over to the committer run
 * alone: a revocation's commit (which may come from the log client at any time) waits for them.
 *
 * Between the poll and the processing of a batch, the loop applies the control streams (up to
 * their end offsets at that moment; control/state.ts) and, at most once per `lagRefreshMs` or when
 * tasks were created, samples the input partitions' end offsets for the lag metric.
 */
import { channel } from 'node:diagnostics_channel';
import type { Consumer, LogRecord, TopicPartitionOffset } from '../../log/types.ts';
import type { Clock } from '../clock.ts';
import type { ControlMetrics, ControlState } from '../control/state.ts';
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
  /** Input records per second over the live tasks (sum of their decayed rates). */
  readonly recordsPerSecond: number;
  /** Records of the assigned partitions not processed yet (sum of the tasks' sampled lags; null before any sample). */
  readonly lag: number | null;
  /** The control topics read by this instance. */
  readonly controls: readonly ControlMetrics[];
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
  /** Least time between two samples of the end offsets for the lag metric. */
  readonly lagRefreshMs: number;
  /** The instance's control streams (null: the topology has none). */
  readonly controls: ControlState | null;
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
  #lastLagSample = Number.NEGATIVE_INFINITY;
  #tasksAtLagSample = 0;
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
    const tasks = tm.tasks().map((t) => t.metrics());
    const lags = tasks.filter((t) => t.lag !== null);
    return {
      applicationId: this.applicationId,
      state: this.#state,
      tasks,
      batches: this.#batches,
      rebalancedCommits: this.#rebalanced,
      tasksCreated: tm.created,
      tasksClosed: tm.closed,
      transactionsCommitted: tx.committed,
      transactionsAborted: tx.aborted,
      recordsPerSecond: tasks.reduce((n, t) => n + t.recordsPerSecond, 0),
      lag: lags.length === 0 ? null : lags.reduce((n, t) => n + t.lag!, 0),
      controls: this.#parts.controls?.metrics() ?? [],
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
    // A revocation commits everything processed so far, then detaches the revoked tasks before any
    // other batch runs (a batch polled earlier then drops their records: stillOwned).
    p.tasks.beforeRevoke = (detach) =>
      this.#exclusive(async () => {
        await committer.commitAll();
        detach();
      });
    try {
      while (!this.#stopping) {
        const limit = committer.pollWaitLimitMs ?? null;
        const polled = await p.consumer.poll({ maxRecords: p.maxBatchRecords, timeoutMs: limit === null ? p.pollTimeoutMs : Math.min(limit, p.pollTimeoutMs) });
        const owners = ownersOf(polled, p.tasks);
        await this.#beforeProcessing(polled);
        const backlogged = polled.length >= p.maxBatchRecords;
        await this.#exclusive(async () => committer.add(await this.#processBatch(stillOwned(polled, owners, p.tasks), backlogged)));
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

  /**
   * Applies the control records appended so far (all of them up to the current end offsets when
   * there is data to process), then samples end offsets for the lag metric if due.
   */
  async #beforeProcessing(records: readonly LogRecord[]): Promise<void> {
    const p = this.#parts;
    if (p.controls !== null) await p.controls.advance(records.length > 0 ? 'end' : 'available');
    const now = performance.now();
    if (now - this.#lastLagSample < p.lagRefreshMs && p.tasks.created === this.#tasksAtLagSample) return;
    this.#lastLagSample = now;
    this.#tasksAtLagSample = p.tasks.created;
    // A partition's next offset to process is its first record in this batch, else the consumer's position.
    const first = new Map<string, number>();
    for (const r of records) {
      const key = `${r.topic}\0${r.partition}`;
      if (!first.has(key)) first.set(key, r.offset);
    }
    for (const l of await p.consumer.lag()) p.tasks.get(l)?.observeEndOffset(l.endOffset, first.get(`${l.topic}\0${l.partition}`) ?? l.position);
  }

  /** Processes the records by task, then fires due wall-clock punctuations. */
  async #process(records: readonly LogRecord[]): Promise<Map<StreamTask, readonly LogRecord[]>> {
    const byTask = this.#byTask(records);
    if (byTask.size === 1) {
      for (const [task, list] of byTask) await task.process(list);
    } else {
      await Promise.all([...byTask].map(([task, list]) => task.process(list)));
    }
    for (const task of this.#parts.tasks.tasks()) await task.punctuateWallClock();
    return byTask;
  }

  /**
   * The records of each task, in order. Polls return each partition's records in runs: one task
   * lookup per run, not per record, and a poll of one partition (the usual case) is not copied.
   */
  #byTask(records: readonly LogRecord[]): Map<StreamTask, readonly LogRecord[]> {
    if (records.length > 0 && isOnePartition(records)) return new Map([[this.#taskOf(records[0]!), records]]);
    const byTask = new Map<StreamTask, LogRecord[]>();
    let list: LogRecord[] = [];
    let last: LogRecord | undefined;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      if (last === undefined || r.partition !== last.partition || r.topic !== last.topic) {
        const task = this.#taskOf(r);
        list = byTask.get(task) ?? [];
        if (list.length === 0) byTask.set(task, list);
      }
      list.push(r);
      last = r;
    }
    return byTask;
  }

  #taskOf(r: LogRecord): StreamTask {
    const task = this.#parts.tasks.get(r);
    if (task === undefined) throw new Error(`internal: polled ${r.topic}/${r.partition} without a task`);
    return task;
  }

  /** Processes a batch; returns its tasks, the outputs they emitted and the input offsets to commit. */
  async #processBatch(records: readonly LogRecord[], backlogged: boolean): Promise<ProcessedBatch> {
    const started = performance.now();
    const byTask = await this.#process(records);
    const offsets: TopicPartitionOffset[] = [];
    for (const task of byTask.keys()) offsets.push({ topic: task.topic, partition: task.partition, offset: task.nextOffset! });
    const outputs = this.#parts.collector.take();
    return { byTask, outputs, offsets, info: { records: records.length, outputs: outputs.length, started }, backlogged };
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

/** The task of each partition of `records` now (one lookup per run of records of a partition). */
function ownersOf(records: readonly LogRecord[], tasks: TaskManager): Map<string, StreamTask | undefined> {
  const owners = new Map<string, StreamTask | undefined>();
  let last: LogRecord | undefined;
  for (const r of records) {
    if (last !== undefined && last.partition === r.partition && last.topic === r.topic) continue;
    last = r;
    const key = `${r.topic}\0${r.partition}`;
    if (!owners.has(key)) owners.set(key, tasks.get(r));
  }
  return owners;
}

/**
 * The polled records whose partition still has the task it had when they were polled. On Kafka
 * the group may rebalance during any wait (the client's heartbeats drive it), for instance while
 * control records are applied or a revocation's commit runs: a revoked partition's records are
 * left to its new owner, which reads them from the committed offset; a partition revoked and
 * assigned again has a fresh task (restored from its changelog) whose consumer position went back
 * to the committed offset, so its stale records would be processed twice.
 */
function stillOwned(records: readonly LogRecord[], owners: ReadonlyMap<string, StreamTask | undefined>, tasks: TaskManager): readonly LogRecord[] {
  const changed = new Set<string>();
  for (const [key, task] of owners) {
    const [topic, partition] = key.split('\0') as [string, string];
    if (task === undefined || tasks.get({ topic, partition: Number(partition) }) !== task) changed.add(key);
  }
  return changed.size === 0 ? records : records.filter((r) => !changed.has(`${r.topic}\0${r.partition}`));
}

/** True when every record (at least one) is of the first record's partition. */
function isOnePartition(records: readonly LogRecord[]): boolean {
  const { topic, partition } = records[0]!;
  for (let i = records.length - 1; i > 0; i--) if (records[i]!.partition !== partition || records[i]!.topic !== topic) return false;
  return true;
}
