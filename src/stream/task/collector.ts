/**
 * Where a task's output records go before they are produced: a bounded list per batch. The
 * runtime hands the list to its delivery (a producer send, or a transaction later); the test
 * driver routes it to its in-memory topics.
 */
import type { ProducerRecord } from '../../log/types.ts';

/** Collects the encoded output records of a batch. */
export interface RecordCollector {
  send(record: ProducerRecord): void;
}

/** A collector that keeps records in order until {@link BufferCollector.take} is called. */
export class BufferCollector implements RecordCollector {
  #records: ProducerRecord[] = [];

  send(record: ProducerRecord): void {
    this.#records.push(record);
  }

  /** Records collected so far. */
  get size(): number {
    return this.#records.length;
  }

  /** Returns the collected records and starts a new list. */
  take(): ProducerRecord[] {
    const out = this.#records;
    this.#records = [];
    return out;
  }
}
