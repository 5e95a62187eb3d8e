/**
 * How a batch's outputs and input offsets reach the log. At-least-once: produce the outputs, wait
 * for their acknowledgement, then commit the offsets; a crash in between re-processes the batch
 * (duplicates, never losses). Exactly-once (delivery-eos.ts) implements the same interface with
 * one log Transaction per batch: outputs (sinks, repartition topics, changelog writes — everything
 * a task hands its collector) and input offsets, all visible or none.
 */
import { isSluiceError } from '../../errors.ts';
import type { Consumer, Producer, ProducerRecord, TopicPartitionOffset } from '../../log/types.ts';

/**
 * What happened to a batch's commit:
 * - `committed`: outputs and offsets are durable;
 * - `rebalanced` (at-least-once): the outputs are durable but the offsets were not committed because
 *   the group moved on (the new owner re-processes those records);
 * - `aborted` (exactly-once): nothing of the batch is visible; the caller must rewind the batch's
 *   partitions to their committed offsets and rebuild the tasks' in-memory state.
 */
export type CommitOutcome = 'committed' | 'rebalanced' | 'aborted';

/** Transactions a delivery ended (both 0 for at-least-once). */
export interface TransactionCounts {
  readonly committed: number;
  readonly aborted: number;
}

/** Commits batches. */
export interface Delivery {
  /** Makes a batch durable: outputs first, then input offsets (or both atomically). */
  commitBatch(outputs: readonly ProducerRecord[], offsets: readonly TopicPartitionOffset[]): Promise<CommitOutcome>;
  /** Transactions committed and aborted so far. */
  transactions(): TransactionCounts;
  close(): Promise<void>;
}

/**
 * A delivery whose two halves can be pipelined (at-least-once): outputs are sent as each batch is
 * processed, and input offsets committed later, on an interval, for the batches whose outputs are
 * all acknowledged (pipeline.ts).
 */
export interface PipelinedDelivery extends Delivery {
  /** Produces outputs; resolves once they are acknowledged. */
  send(outputs: readonly ProducerRecord[]): Promise<unknown>;
  /** Commits input offsets: `committed`, or `rebalanced` when the group moved on meanwhile. */
  commitOffsets(offsets: readonly TopicPartitionOffset[]): Promise<CommitOutcome>;
}

/** True for a delivery the runtime may pipeline. */
export function isPipelined(delivery: Delivery): delivery is PipelinedDelivery {
  return typeof (delivery as Partial<PipelinedDelivery>).commitOffsets === 'function';
}

/** At-least-once delivery with a plain producer and consumer-group commits. */
export class AtLeastOnceDelivery implements PipelinedDelivery {
  readonly #producer: Producer;
  readonly #consumer: Consumer;

  constructor(producer: Producer, consumer: Consumer) {
    this.#producer = producer;
    this.#consumer = consumer;
  }

  async commitBatch(outputs: readonly ProducerRecord[], offsets: readonly TopicPartitionOffset[]): Promise<CommitOutcome> {
    if (outputs.length > 0) await this.#producer.send(outputs);
    return this.commitOffsets(offsets);
  }

  send(outputs: readonly ProducerRecord[]): Promise<unknown> {
    return this.#producer.send(outputs);
  }

  async commitOffsets(offsets: readonly TopicPartitionOffset[]): Promise<CommitOutcome> {
    if (offsets.length === 0) return 'committed';
    try {
      await this.#consumer.commit(offsets);
      return 'committed';
    } catch (error) {
      if (isSluiceError(error) && error.retriable) return 'rebalanced';
      throw error;
    }
  }

  transactions(): TransactionCounts {
    return { committed: 0, aborted: 0 };
  }

  close(): Promise<void> {
    return this.#producer.close();
  }
}
