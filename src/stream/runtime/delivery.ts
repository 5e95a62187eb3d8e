/**
 * How outputs and input offsets reach the log. At-least-once: produce the outputs, wait for their
 * acknowledgement, then commit the offsets; a crash in between re-processes the batch (duplicates,
 * never losses). Exactly-once (delivery-eos.ts): one log Transaction holding the outputs (sinks,
 * repartition topics, changelog writes — everything a task hands its collector) and the input
 * offsets, all visible or none.
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

/** What every delivery offers. */
export interface Delivery {
  /** Transactions committed and aborted so far. */
  transactions(): TransactionCounts;
  close(): Promise<void>;
}

/**
 * A delivery whose two halves can be pipelined (at-least-once): outputs are sent as each batch is
 * processed, and input offsets committed later, at commit points, for the batches whose outputs
 * are all acknowledged (commit-alo.ts).
 */
export interface PipelinedDelivery extends Delivery {
  /** Produces outputs; resolves once they are acknowledged. */
  send(outputs: readonly ProducerRecord[]): Promise<unknown>;
  /** Commits input offsets: `committed`, or `rebalanced` when the group moved on meanwhile. */
  commitOffsets(offsets: readonly TopicPartitionOffset[]): Promise<CommitOutcome>;
}

/** At-least-once delivery with a plain producer and consumer-group commits. */
export class AtLeastOnceDelivery implements PipelinedDelivery {
  readonly #producer: Producer;
  readonly #consumer: Consumer;

  constructor(producer: Producer, consumer: Consumer) {
    this.#producer = producer;
    this.#consumer = consumer;
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
