/**
 * Exactly-once commits: one transaction (delivery-eos.ts) holds every batch processed between two
 * commit points — every `commitIntervalMs` (like Kafka Streams' commit.interval.ms under EOS),
 * when idle, when the transaction reaches {@link MAX_TRANSACTION_BYTES}, before a revocation and
 * on close. Each batch's outputs join the transaction as the batch is processed; at the commit
 * point the tasks' pending changelog records and the input offsets join it and it commits:
 * outputs, state and offsets all visible, or none.
 *
 * The commit runs in the background: the next batches are processed meanwhile, their outputs
 * held back (at most {@link MAX_HELD_BATCHES} batches) until it is done, then sent in the next
 * transaction. They build on state the commit may still lose, so when a transaction is aborted (a
 * rebalance fenced its offsets, a timeout), everything after the last committed one goes: every
 * partition read since is sought back to its committed offset (or, never committed, to the first
 * record read there since) and every task is rebuilt (all of them may have emitted into the
 * aborted transaction, punctuators included), dropping held outputs and anything the closing
 * processors emitted: the records are processed again from the state the log holds, nothing twice.
 */
import type { ProducerRecord, TopicPartition, TopicPartitionOffset } from '../../log/types.ts';
import type { StreamTask } from '../task/task.ts';
import { OffsetMap, takeStateOutputs, type CommitContext, type Committer, type ProcessedBatch } from './committer.ts';
import type { ExactlyOnceDelivery } from './delivery-eos.ts';
import type { BatchInfo } from './pipeline.ts';

/**
 * Bytes (keys and values of the outputs, and of the changelog records the commit would add) after
 * which a transaction commits before its interval ends: well within the producer's buffer (64 MiB
 * by default), which bounds what one transaction may hold.
 */
export const MAX_TRANSACTION_BYTES = 16 * 1024 * 1024;

/** Batches whose outputs may be held back while a commit runs (then the loop waits for it). */
export const MAX_HELD_BATCHES = 16;

/** What one transaction covers. */
class Scope {
  readonly offsets = new OffsetMap();
  readonly batches: BatchInfo[] = [];
  /** The first offset each task read in this scope (where an abort rewinds to, if never committed). */
  readonly firsts = new Map<StreamTask, number>();
  /** Output bytes (keys and values). */
  bytes = 0;
  /** Outputs not sent yet (processed while the previous transaction was committing). */
  held: (readonly ProducerRecord[])[] = [];

  add(batch: ProcessedBatch): void {
    for (const [task, records] of batch.byTask) if (!this.firsts.has(task)) this.firsts.set(task, records[0]!.offset);
    this.offsets.add(batch.offsets);
    if (batch.info.records > 0) this.batches.push(batch.info);
    if (batch.outputs.length === 0) return;
    for (const r of batch.outputs) this.bytes += r.value.byteLength + (r.key?.byteLength ?? 0);
    this.held.push(batch.outputs);
  }
}

/** A commit running in the background. */
interface Flight {
  readonly scope: Scope;
  readonly offsets: readonly TopicPartitionOffset[];
  readonly outcome: Promise<'committed' | 'aborted'>;
  done: boolean;
}

/** The exactly-once committer. */
export class ExactlyOnceCommitter implements Committer {
  readonly #ctx: CommitContext;
  readonly #delivery: ExactlyOnceDelivery;
  #scope = new Scope();
  #flight: Flight | null = null;
  #lastCommit = performance.now();

  constructor(ctx: CommitContext, delivery: ExactlyOnceDelivery) {
    this.#ctx = ctx;
    this.#delivery = delivery;
  }

  async add(batch: ProcessedBatch): Promise<void> {
    this.#scope.add(batch);
    const flight = this.#flight;
    if (flight !== null && (flight.done || this.#scope.held.length >= MAX_HELD_BATCHES) && !(await this.#settle())) return;
    if (this.#flight === null && !(await this.#sendHeld())) return;
    const idle = batch.info.records === 0;
    if (idle || performance.now() - this.#lastCommit >= this.#ctx.commitIntervalMs || this.#full()) await this.#commit(idle);
  }

  async commitAll(): Promise<void> {
    await this.#commit(true);
  }

  async salvage(): Promise<void> {
    const flight = this.#flight;
    this.#flight = null;
    if (flight !== null && (await flight.outcome.catch(() => 'aborted')) === 'committed') this.#committed(flight);
    await this.#delivery.abandon();
  }

  /** True when the transaction's outputs and the pending state changes reach {@link MAX_TRANSACTION_BYTES}. */
  #full(): boolean {
    let bytes = this.#scope.bytes;
    for (const task of this.#ctx.tasks.tasks()) bytes += task.pendingStateBytes();
    return bytes >= MAX_TRANSACTION_BYTES;
  }

  /** Adds the tasks' state changes and the offsets to the transaction and commits it: in the background, or waiting (`wait`). */
  async #commit(wait: boolean): Promise<void> {
    this.#lastCommit = performance.now();
    if (!(await this.#settle()) || !(await this.#sendHeld())) return;
    this.#scope.held.push(takeStateOutputs(this.#ctx));
    if (!(await this.#sendHeld())) return;
    const scope = this.#scope;
    this.#scope = new Scope();
    const offsets = scope.offsets.take();
    const flight: Flight = { scope, offsets, outcome: this.#delivery.commit(offsets), done: false };
    const landed = (): void => {
      flight.done = true;
    };
    flight.outcome.then(landed, landed);
    this.#flight = flight;
    if (wait) await this.#settle();
  }

  /** Waits for the commit in flight, if any, and applies its outcome; false when it was aborted (everything rewound). */
  async #settle(): Promise<boolean> {
    const flight = this.#flight;
    if (flight === null) return true;
    this.#flight = null;
    if ((await flight.outcome) === 'aborted') {
      await this.#rewind(flight.scope);
      return false;
    }
    this.#committed(flight);
    return true;
  }

  #committed(flight: Flight): void {
    if (flight.offsets.length > 0 || flight.scope.batches.length > 0) this.#ctx.committed(flight.offsets, flight.scope.batches);
  }

  /** Sends the held outputs into the open transaction, as one send; false when that aborted it (everything rewound). */
  async #sendHeld(): Promise<boolean> {
    const held = this.#scope.held;
    this.#scope.held = [];
    const outputs = held.length === 1 ? held[0]! : held.flat();
    if (outputs.length > 0 && (await this.#delivery.send(outputs)) === 'aborted') {
      await this.#rewind(null);
      return false;
    }
    return true;
  }

  /**
   * After an aborted transaction (`aborted`, or the open one): rebuilds every task and seeks every
   * partition read since the last commit back to its committed offset.
   */
  async #rewind(aborted: Scope | null): Promise<void> {
    const ctx = this.#ctx;
    const firsts = new Map<string, { topic: string; partition: number; first: number }>();
    for (const scope of aborted === null ? [this.#scope] : [aborted, this.#scope]) {
      for (const [task, first] of scope.firsts) {
        const k = key(task);
        const seen = firsts.get(k);
        if (seen === undefined || first < seen.first) firsts.set(k, { topic: task.topic, partition: task.partition, first });
      }
    }
    this.#scope = new Scope();
    const read = [...firsts.values()];
    const committed = read.length === 0 ? [] : await ctx.consumer.committed(read.map(({ topic, partition }) => ({ topic, partition })));
    // What the closing processors emit is dropped; the new tasks' replayed control records emit afresh.
    await ctx.tasks.rebuild(() => ctx.collector.take());
    for (const [i, r] of read.entries()) {
      // A partition revoked meanwhile (Kafka) is re-read from its committed offset by its new owner.
      if (ctx.tasks.get(r) === undefined) continue;
      await ctx.consumer.seek({ topic: r.topic, partition: r.partition }, { offset: committed[i]?.offset ?? r.first });
    }
  }
}

const key = (tp: TopicPartition): string => `${tp.topic}\0${tp.partition}`;
