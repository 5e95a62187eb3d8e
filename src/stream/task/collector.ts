/**
 * Where a task's output records go before they are produced: a bounded list per batch. The
 * runtime hands the list to its delivery (a producer send, or a transaction later); the test
 * driver routes it to its in-memory topics.
 */
import type { ProducerRecord } from '../../log/types.ts';

/** Collects the encoded output records of a batch. */
export interface RecordCollector {
  send(record: ProducerRecord): void;
  /** Called between records (every few): may hand the records collected so far on at once. */
  checkDelay?(): void;
}

/**
 * A collector that keeps records in order until {@link BufferCollector.take} is called — or, once
 * {@link BufferCollector.handOffAfter} set a delay, until {@link BufferCollector.checkDelay} finds
 * that the oldest has waited that long.
 */
export class BufferCollector implements RecordCollector {
  #records: ProducerRecord[] = [];
  #early: { readonly delayMs: number; readonly handOff: (records: ProducerRecord[]) => void } | null = null;
  /** When the oldest record now collected arrived (performance.now()). */
  #oldestAt = 0;

  /** From now on, records collected `delayMs` ago go to `handOff` at the next {@link checkDelay}. */
  handOffAfter(delayMs: number, handOff: (records: ProducerRecord[]) => void): void {
    this.#early = { delayMs, handOff };
  }

  send(record: ProducerRecord): void {
    if (this.#records.length === 0 && this.#early !== null) this.#oldestAt = performance.now();
    this.#records.push(record);
  }

  checkDelay(): void {
    const early = this.#early;
    if (early !== null && this.#records.length > 0 && performance.now() - this.#oldestAt >= early.delayMs) early.handOff(this.take());
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
