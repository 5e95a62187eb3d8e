/**
 * What the runtime loop (app.ts) hands the committer of its delivery mode: processed batches, and
 * the moments everything must be committed (before a revocation, on close). At-least-once:
 * commit-alo.ts; exactly-once: commit-eos.ts. Both commit at commit points — every
 * `commitIntervalMs`, when idle, before a revocation and on close — where every task first hands
 * over its stores' pending changelog records (task.prepareCommit()).
 */
import type { Consumer, LogRecord, ProducerRecord, TopicPartitionOffset } from '../../log/types.ts';
import type { BufferCollector } from '../task/collector.ts';
import type { StreamTask } from '../task/task.ts';
import type { BatchInfo } from './pipeline.ts';
import type { TaskManager } from './task-manager.ts';

/** One processed batch. */
export interface ProcessedBatch {
  /** The batch's records by task (empty when the poll returned none). */
  readonly byTask: ReadonlyMap<StreamTask, readonly LogRecord[]>;
  /** What the tasks emitted: outputs, repartition and dead-letter records (changelogs come at commit points). */
  readonly outputs: readonly ProducerRecord[];
  /** The next offset of every task that processed records. */
  readonly offsets: readonly TopicPartitionOffset[];
  readonly info: BatchInfo;
  /** The poll returned as many records as it may take: more are probably waiting. */
  readonly backlogged: boolean;
}

/** Commits processed batches. The app never runs two of these calls at once. */
export interface Committer {
  /** Takes a batch (an empty one when the poll returned nothing: idle) and commits when due. */
  add(batch: ProcessedBatch): Promise<void>;
  /** Commits everything processed so far (before a revocation, on close). */
  commitAll(): Promise<void>;
  /** After an error: commits what may still be committed, best effort (never throws). */
  salvage(): Promise<void>;
  /**
   * The longest the next poll may wait for records, in ms, when less than the configured poll
   * timeout (outputs held back wait for the poll that finds no more input); null: no limit.
   */
  readonly pollWaitLimitMs?: number | null;
}

/** What a committer needs from the app, and tells it. */
export interface CommitContext {
  readonly tasks: TaskManager;
  readonly collector: BufferCollector;
  readonly consumer: Consumer;
  /** Least time between commit points (0: after every batch). */
  readonly commitIntervalMs: number;
  /** The input offsets of `batches` were committed. */
  committed(offsets: readonly TopicPartitionOffset[], batches: readonly BatchInfo[]): void;
  /** A commit was skipped because the group rebalanced meanwhile (the new owner re-processes). */
  rebalanced(): void;
}

/** Every task's pending changelog records (task.prepareCommit()), taken from the collector. */
export function takeStateOutputs(ctx: CommitContext): ProducerRecord[] {
  for (const task of ctx.tasks.tasks()) task.prepareCommit();
  return ctx.collector.take();
}

/** The latest offset per partition, over batches added one after another. */
export class OffsetMap {
  #offsets = new Map<string, TopicPartitionOffset>();

  get size(): number {
    return this.#offsets.size;
  }

  /** Records newer offsets (a later batch's replace an earlier one's). */
  add(offsets: readonly TopicPartitionOffset[]): void {
    for (const o of offsets) this.#offsets.set(`${o.topic}\0${o.partition}`, o);
  }

  /** The offsets so far; starts over. */
  take(): TopicPartitionOffset[] {
    const out = [...this.#offsets.values()];
    this.#offsets = new Map();
    return out;
  }
}
