/**
 * Exactly-once commits: one transaction (delivery-eos.ts) holds every batch processed between two
 * commit points — every `commitIntervalMs` (like Kafka Streams' commit.interval.ms under EOS),
 * when idle, when the transaction's outputs reach {@link MAX_TRANSACTION_BYTES}, before a
 * revocation and on close. Each batch's outputs join the transaction as the batch is processed;
 * at the commit point the tasks' pending changelog records and the input offsets join it and it
 * commits: outputs, state and offsets all visible, or none.
 *
 * When a transaction is aborted (a rebalance fenced its offsets, a timeout), every partition it
 * read from is sought back to its committed offset (or, never committed, to the first record the
 * transaction read there) and every task is rebuilt (all of them may have emitted into the
 * aborted transaction, punctuators included), dropping anything their closing processors
 * emitted: the records are processed again from the state the log holds, nothing twice.
 */
import type { TopicPartition } from '../../log/types.ts';
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

/** The exactly-once committer. */
export class ExactlyOnceCommitter implements Committer {
  readonly #ctx: CommitContext;
  readonly #delivery: ExactlyOnceDelivery;
  /** What the open transaction covers: offsets, batches, the first offset read per task, output bytes. */
  readonly #offsets = new OffsetMap();
  #batches: BatchInfo[] = [];
  #firsts = new Map<StreamTask, number>();
  #bytes = 0;
  #lastCommit = performance.now();

  constructor(ctx: CommitContext, delivery: ExactlyOnceDelivery) {
    this.#ctx = ctx;
    this.#delivery = delivery;
  }

  async add(batch: ProcessedBatch): Promise<void> {
    for (const [task, records] of batch.byTask) if (!this.#firsts.has(task)) this.#firsts.set(task, records[0]!.offset);
    this.#offsets.add(batch.offsets);
    if (batch.info.records > 0) this.#batches.push(batch.info);
    if (batch.outputs.length > 0) {
      for (const r of batch.outputs) this.#bytes += r.value.byteLength + (r.key?.byteLength ?? 0);
      if ((await this.#delivery.send(batch.outputs)) === 'aborted') {
        await this.#rewind();
        return;
      }
    }
    const idle = batch.info.records === 0;
    if (idle || performance.now() - this.#lastCommit >= this.#ctx.commitIntervalMs || this.#full()) await this.commitAll();
  }

  /** True when the transaction's outputs and the pending state changes reach {@link MAX_TRANSACTION_BYTES}. */
  #full(): boolean {
    let bytes = this.#bytes;
    for (const task of this.#ctx.tasks.tasks()) bytes += task.pendingStateBytes();
    return bytes >= MAX_TRANSACTION_BYTES;
  }

  async commitAll(): Promise<void> {
    this.#lastCommit = performance.now();
    const state = takeStateOutputs(this.#ctx);
    if (state.length > 0 && (await this.#delivery.send(state)) === 'aborted') {
      await this.#rewind();
      return;
    }
    const offsets = this.#offsets.take();
    const outcome = await this.#delivery.commit(offsets);
    if (outcome === 'aborted') {
      await this.#rewind();
      return;
    }
    const batches = this.#batches;
    this.#reset();
    if (offsets.length > 0 || batches.length > 0) this.#ctx.committed(offsets, batches);
  }

  async salvage(): Promise<void> {
    await this.#delivery.abandon();
  }

  #reset(): void {
    this.#offsets.take();
    this.#batches = [];
    this.#firsts = new Map();
    this.#bytes = 0;
  }

  /** After an aborted transaction: rebuild every task, seek the transaction's partitions back. */
  async #rewind(): Promise<void> {
    const ctx = this.#ctx;
    const read = [...this.#firsts].map(([task, first]) => ({ topic: task.topic, partition: task.partition, first }));
    this.#reset();
    const committed = read.length === 0 ? [] : await ctx.consumer.committed(read.map(({ topic, partition }) => ({ topic, partition })));
    await ctx.tasks.rebuild();
    ctx.collector.take();
    const assigned = new Set(ctx.consumer.assignment().map(key));
    for (const [i, r] of read.entries()) {
      // A partition revoked meanwhile restarts from its committed offset wherever it goes next.
      if (assigned.has(key(r))) await ctx.consumer.seek({ topic: r.topic, partition: r.partition }, { offset: committed[i]?.offset ?? r.first });
    }
  }
}

const key = (tp: TopicPartition): string => `${tp.topic}\0${tp.partition}`;
