/**
 * Window specifications for `groupByKey().windowedBy(...)` (Kafka Streams semantics, event time):
 *
 * - {@link TimeWindows}: fixed-size windows `[start, start + size)` (end EXCLUSIVE) aligned to the
 *   epoch, every `advance` ms. `advance === size` is tumbling (each record in one window),
 *   `advance < size` is hopping (each record in `size / advance` windows). As in Kafka Streams,
 *   no window starts before 0. A record at exactly `end` belongs to the next window.
 * - {@link SlidingWindows}: windows `[start, end]` (both ends INCLUSIVE) with `end - start = d`,
 *   defined by the records themselves (KIP-450): each record creates its "left" window
 *   `[ts - d, ts]` and, when later records fall within `d` of it, its "right" window
 *   `[ts + 1, ts + 1 + d]`; every distinct set of records within `d` of each other is one window.
 *   Unlike Kafka Streams, windows of records earlier than `d` after the epoch are not clamped to
 *   start at 0 (they may start before the epoch).
 * - {@link SessionWindows}: per key, records within `gap` of each other (inclusive) form one
 *   session `[first, last]` (both ends INCLUSIVE); a record within `gap` of two sessions merges them.
 *
 * Every kind has a grace period: how long after a window ends (in stream time) records may still
 * update it. See window/close.ts for the exact close and lateness rules.
 */
import { invalidTopology } from '../topology/validate.ts';

/** A result key of a windowed aggregation: the record key and its window (ms since the epoch). */
export interface Windowed<K> {
  readonly key: K;
  /** First ms of the window (inclusive). */
  readonly start: number;
  /** For time windows: the first ms after the window (exclusive); sliding and session: the last ms (inclusive). */
  readonly end: number;
}

/** The kinds of window. */
export const WindowKind = { time: 'time', sliding: 'sliding', session: 'session' } as const;
/** `time`, `sliding` or `session`. */
export type WindowKind = (typeof WindowKind)[keyof typeof WindowKind];

const MAX_MS = 100 * 365 * 24 * 3_600_000;

function assertDuration(path: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > MAX_MS) {
    throw invalidTopology(`${path} must be an integer number of ms in [${min}, ${MAX_MS}], got ${String(value)}`, { path });
  }
  return value;
}

/** Tumbling (`advance === size`) or hopping (`advance < size`) windows. Immutable. */
export class TimeWindows {
  readonly kind = WindowKind.time;
  readonly sizeMs: number;
  readonly advanceMs: number;
  readonly graceMs: number;

  private constructor(size: number, advance: number, grace: number) {
    this.sizeMs = size;
    this.advanceMs = advance;
    this.graceMs = grace;
    Object.freeze(this);
  }

  /** Tumbling windows of `sizeMs` (grace 0; chain `advanceBy` for hopping, `grace` for lateness). */
  static of(sizeMs: number): TimeWindows {
    const size = assertDuration('TimeWindows.of(sizeMs)', sizeMs, 1);
    return new TimeWindows(size, size, 0);
  }

  /** Hopping windows: a new window every `advanceMs` (1 ≤ advance ≤ size). */
  advanceBy(advanceMs: number): TimeWindows {
    const advance = assertDuration('TimeWindows.advanceBy(advanceMs)', advanceMs, 1);
    if (advance > this.sizeMs) throw invalidTopology(`TimeWindows.advanceBy(advanceMs) must be ≤ the window size ${this.sizeMs}, got ${advance}`, { path: 'TimeWindows.advanceBy' });
    return new TimeWindows(this.sizeMs, advance, this.graceMs);
  }

  /** Accepts records up to `graceMs` of stream time after a window's end. */
  grace(graceMs: number): TimeWindows {
    return new TimeWindows(this.sizeMs, this.advanceMs, assertDuration('TimeWindows.grace(graceMs)', graceMs, 0));
  }

  /**
   * Start of the earliest window that contains `ts` (none starts before 0); the others that
   * contain it start every `advanceMs` after it, up to `ts`.
   */
  firstStartFor(ts: number): number {
    return Math.floor(Math.max(0, ts - this.sizeMs + this.advanceMs) / this.advanceMs) * this.advanceMs;
  }
}

/** Sliding windows of a maximum time difference between records. Immutable. */
export class SlidingWindows {
  readonly kind = WindowKind.sliding;
  readonly timeDifferenceMs: number;
  readonly graceMs: number;

  private constructor(d: number, grace: number) {
    this.timeDifferenceMs = d;
    this.graceMs = grace;
    Object.freeze(this);
  }

  /** Windows holding the records within `timeDifferenceMs` of each other (grace 0). */
  static ofTimeDifference(timeDifferenceMs: number): SlidingWindows {
    return new SlidingWindows(assertDuration('SlidingWindows.ofTimeDifference(timeDifferenceMs)', timeDifferenceMs, 1), 0);
  }

  /** Accepts records up to `graceMs` of stream time after a window's end. */
  grace(graceMs: number): SlidingWindows {
    return new SlidingWindows(this.timeDifferenceMs, assertDuration('SlidingWindows.grace(graceMs)', graceMs, 0));
  }
}

/** Session windows closed by an inactivity gap. Immutable. */
export class SessionWindows {
  readonly kind = WindowKind.session;
  readonly gapMs: number;
  readonly graceMs: number;

  private constructor(gap: number, grace: number) {
    this.gapMs = gap;
    this.graceMs = grace;
    Object.freeze(this);
  }

  /** Sessions of records at most `gapMs` apart (grace 0). */
  static withInactivityGap(gapMs: number): SessionWindows {
    return new SessionWindows(assertDuration('SessionWindows.withInactivityGap(gapMs)', gapMs, 1), 0);
  }

  /** Accepts records up to `graceMs` of stream time after a session's end. */
  grace(graceMs: number): SessionWindows {
    return new SessionWindows(this.gapMs, assertDuration('SessionWindows.grace(graceMs)', graceMs, 0));
  }
}

/** Any window specification. */
export type Windows = TimeWindows | SlidingWindows | SessionWindows;

/**
 * The value type of a windowed aggregation's update stream: `A`, or for session windows `A | null`
 * (a merge retracts the sessions it replaces with null-valued deletes, see window/aggregate.ts).
 */
export type WindowUpdate<A, W extends Windows> = W extends SessionWindows ? A | null : A;

/** Checks that `value` is a window specification (STREAM_INVALID_TOPOLOGY otherwise). */
export function assertWindows(path: string, value: unknown): asserts value is Windows {
  if (!(value instanceof TimeWindows || value instanceof SlidingWindows || value instanceof SessionWindows)) {
    throw invalidTopology(`${path} must be TimeWindows, SlidingWindows or SessionWindows`, { path });
  }
}

/** What `suppress()` holds back; see {@link untilWindowCloses}. */
export interface Suppression {
  readonly kind: 'untilWindowCloses';
}

/**
 * Suppression that emits only each window's final result, exactly once, when stream time reaches
 * the window's close time (see close.ts). The buffer is the window store itself, so it is bounded
 * by the window retention and restored from the same changelog.
 */
export function untilWindowCloses(): Suppression {
  return Object.freeze({ kind: 'untilWindowCloses' as const });
}
