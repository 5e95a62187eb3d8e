/**
 * Punctuation schedules of one task. A schedule fires when its clock (the task's stream time, or
 * the wall clock) reaches the next multiple of its interval (epoch-aligned, like window bounds);
 * if time jumps over several multiples it fires once, with the current time, and the next due time
 * is the multiple after that. The first due time is the first multiple after the clock's value when
 * the schedule was made (for stream time not yet known: when the task sees its first record).
 */
import { ErrorCode, SluiceError } from '../../errors.ts';
import { UNKNOWN_STREAM_TIME, type Cancellable, type Punctuator, type PunctuationType } from './api.ts';
import type { MaybePromise } from './maybe-async.ts';

interface Schedule {
  readonly node: string;
  readonly type: PunctuationType;
  readonly intervalMs: number;
  readonly punctuator: Punctuator;
  /** Next due time; null until the clock is known. */
  next: number | null;
  cancelled: boolean;
}

const nextMultiple = (time: number, interval: number): number => (Math.floor(time / interval) + 1) * interval;

/** The punctuation schedules of a task. */
export class PunctuationSchedules {
  readonly #schedules: Schedule[] = [];

  /** Adds a schedule; `now` is the current value of its clock (UNKNOWN_STREAM_TIME if unknown). */
  add(node: string, type: PunctuationType, intervalMs: number, punctuator: Punctuator, now: number): Cancellable {
    if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) {
      throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `schedule(): intervalMs must be a positive integer, got ${String(intervalMs)}`);
    }
    const schedule: Schedule = { node, type, intervalMs, punctuator, next: now === UNKNOWN_STREAM_TIME ? null : nextMultiple(now, intervalMs), cancelled: false };
    this.#schedules.push(schedule);
    return {
      cancel: () => {
        schedule.cancelled = true;
        const i = this.#schedules.indexOf(schedule);
        if (i >= 0) this.#schedules.splice(i, 1);
      },
    };
  }

  /** Number of live schedules. */
  get size(): number {
    return this.#schedules.length;
  }

  /** Fires the schedules of `type` that are due at `now`, in the order they were made. */
  async fire(type: PunctuationType, now: number, onFired: () => void): Promise<void> {
    for (const s of [...this.#schedules]) {
      if (s.type !== type || s.cancelled) continue;
      if (s.next === null) {
        s.next = nextMultiple(now, s.intervalMs);
        continue;
      }
      if (now < s.next) continue;
      s.next = nextMultiple(now, s.intervalMs);
      onFired();
      const r: MaybePromise = s.punctuator(now);
      if (r !== undefined) await r;
    }
  }

  /** True when a schedule of `type` is due at `now` (cheap check before calling {@link fire}). */
  due(type: PunctuationType, now: number): boolean {
    for (const s of this.#schedules) if (s.type === type && (s.next === null || now >= s.next)) return true;
    return false;
  }
}
