/**
 * Bounded buffering for producers: sends reserve their bytes before going out and release them
 * when acknowledged; a send that would go over the limit waits (backpressure) until others finish.
 * A single send larger than the whole budget is let through alone rather than blocked forever.
 */
export class ByteBudget {
  readonly #limit: number;
  #used = 0;
  #waiters: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Bytes reserved by sends not yet acknowledged. */
  get used(): number {
    return this.#used;
  }

  /** Waits until `bytes` fit (or nothing else is buffered), then reserves them. */
  async reserve(bytes: number): Promise<void> {
    while (this.#used > 0 && this.#used + bytes > this.#limit) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    this.#used += bytes;
  }

  /** Returns `bytes` to the budget and wakes the waiting sends. */
  release(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
