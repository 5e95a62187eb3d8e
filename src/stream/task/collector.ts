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
 * {@link BufferCollector.handOffAfter} set a delay, until {@link BufferCollector.checkDelay} hands
 * them on early: at once when no early hand-off is still unacknowledged (a rare output, such as an
 * alert, leaves without waiting), otherwise once the oldest has waited the delay (frequent outputs
 * collect meanwhile: about one hand-off per delay, not one per check).
 */
export class BufferCollector implements RecordCollector {
  #records: ProducerRecord[] = [];
  #early: { readonly delayMs: number; readonly handOff: (records: ProducerRecord[]) => Promise<unknown> } | null = null;
  /** When the oldest record now collected arrived (performance.now()). */
  #oldestAt = 0;
  /** Early hand-offs whose promise has not settled yet. */
  #unsettled = 0;
  readonly #settle = (): void => {
    this.#unsettled--;
  };

  /**
   * From now on {@link checkDelay} hands the records collected so far to `handOff` (which resolves
   * once they are acknowledged) when no earlier hand-off is unsettled, or when the oldest has waited
   * `delayMs`.
   */
  handOffAfter(delayMs: number, handOff: (records: ProducerRecord[]) => Promise<unknown>): void {
    this.#early = { delayMs, handOff };
  }

  send(record: ProducerRecord): void {
    if (this.#records.length === 0 && this.#early !== null) this.#oldestAt = performance.now();
    this.#records.push(record);
  }

  checkDelay(): void {
    const early = this.#early;
    if (early === null || this.#records.length === 0) return;
    if (this.#unsettled > 0 && performance.now() - this.#oldestAt < early.delayMs) return;
    this.#unsettled++;
    early.handOff(this.take()).then(this.#settle, this.#settle);
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
