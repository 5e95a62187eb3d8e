/**
 * How a batch's outputs and input offsets reach the log. At-least-once: produce the outputs, wait
 * for their acknowledgement, then commit the offsets; a crash in between re-processes the batch
 * (duplicates, never losses). The exactly-once mode (next step of issue 4) implements the same
 * interface with one log Transaction per batch: `tx.send(outputs)`, `tx.sendOffsets({ groupId,
 * offsets, consumer })` for fencing, `tx.commit()`, and on failure `abort()` plus a rewind of the
 * tasks to the committed offsets.
 */
import { isSluiceError } from '../../errors.ts';
import type { Consumer, Producer, ProducerRecord, TopicPartitionOffset } from '../../log/types.ts';

/** What happened to a batch's commit. */
export type CommitOutcome = 'committed' | 'rebalanced';

/** Commits batches. */
export interface Delivery {
  /**
   * Makes a batch durable: outputs first, then input offsets. Resolves `rebalanced` when the group
   * moved on and the offsets could not be committed (the new owner re-processes those records).
   */
  commitBatch(outputs: readonly ProducerRecord[], offsets: readonly TopicPartitionOffset[]): Promise<CommitOutcome>;
  close(): Promise<void>;
}

/** At-least-once delivery with a plain producer and consumer-group commits. */
export class AtLeastOnceDelivery implements Delivery {
  readonly #producer: Producer;
  readonly #consumer: Consumer;

  constructor(producer: Producer, consumer: Consumer) {
    this.#producer = producer;
    this.#consumer = consumer;
  }

  async commitBatch(outputs: readonly ProducerRecord[], offsets: readonly TopicPartitionOffset[]): Promise<CommitOutcome> {
    if (outputs.length > 0) await this.#producer.send(outputs);
    if (offsets.length === 0) return 'committed';
    try {
      await this.#consumer.commit(offsets);
      return 'committed';
    } catch (error) {
      if (isSluiceError(error) && error.retriable) return 'rebalanced';
      throw error;
    }
  }

  close(): Promise<void> {
    return this.#producer.close();
  }
}
