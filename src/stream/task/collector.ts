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
 * them on early: at once when no early hand-off is still unacknowledged or the last one left at
 * least the delay ago (a rare output, such as an alert, leaves without waiting), otherwise at the
 * first check after that (frequent outputs collect meanwhile: at most one hand-off per delay, not
 * one per check; no record waits longer than the delay and the next check).
 *
 * The last hand-off's age matters because a batch processed without yielding to the event loop
 * never sees an acknowledgement arrive: judged by acknowledgements alone, every output after the
 * batch's first would look like it follows an unacknowledged one and wait the whole delay.
 */
export class BufferCollector implements RecordCollector {
  #records: ProducerRecord[] = [];
  #early: { readonly delayMs: number; readonly handOff: (records: ProducerRecord[]) => Promise<unknown> } | null = null;
  /** When the last early hand-off left (on {@link #now}'s clock). */
  #lastHandOffAt = -Infinity;
  /** Early hand-offs whose promise has not settled yet. */
  #unsettled = 0;
  readonly #now: () => number;
  readonly #settle = (): void => {
    this.#unsettled--;
  };

  /** `now`: a monotonic clock in ms (tests pass their own). */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /**
   * From now on {@link checkDelay} hands the records collected so far to `handOff` (which resolves
   * once they are acknowledged) when no earlier hand-off is unsettled, or when the last one left at
   * least `delayMs` ago.
   */
  handOffAfter(delayMs: number, handOff: (records: ProducerRecord[]) => Promise<unknown>): void {
    this.#early = { delayMs, handOff };
  }

  send(record: ProducerRecord): void {
    this.#records.push(record);
  }

  checkDelay(): void {
    const early = this.#early;
    if (early === null || this.#records.length === 0) return;
    const now = this.#now();
    if (this.#unsettled > 0 && now - this.#lastHandOffAt < early.delayMs) return;
    this.#lastHandOffAt = now;
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
