/**
 * Wall-clock time for the stream runtime, injected (DESIGN.md §6.6): operators never read
 * `Date.now()`; wall-clock punctuation and processing-time metrics go through a {@link Clock}.
 */

import { ErrorCode, SluiceError } from '../errors.ts';

/** A source of wall-clock time in ms since the epoch. */
export interface Clock {
  now(): number;
}

/** The system clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to (virtual time for tests and the test driver). */
export class ManualClock implements Clock {
  #now: number;

  /** Starts at `start` ms (default 0). */
  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Moves the clock forward by `ms` (≥ 0). */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `ManualClock.advance: ms must be a finite number ≥ 0, got ${String(ms)}`);
    }
    this.#now += ms;
  }
}
