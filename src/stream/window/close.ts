/**
 * When windows close, and which records are late. `now` is the aggregating task's stream time
 * (the largest event time it has seen, including the record being processed). A window is CLOSED
 * once `now >= closeAt(window)`: from then on it never changes, suppression emits its final
 * result, and it is dropped from the store (its retention ends there).
 *
 * - Time windows `[start, end)`: closeAt = end + grace (Kafka Streams: a record is late for a
 *   window when `end <= streamTime - grace`). A record is LATE when at least one of its windows is
 *   closed: for tumbling windows that is its only window; a hopping record still updates its open
 *   windows (as Kafka Streams does) and is reported late as `partial`.
 * - Sliding windows `[start, end]`: closeAt = end + 1 + grace (the inclusive end counts as the
 *   window's last ms). A record is late when its own left window `[ts - d, ts]` is closed, i.e.
 *   `ts + grace < streamTime`; it then updates nothing.
 * - Session windows `[start, end]`: a record is late when the session it would form or join ends
 *   before `streamTime - grace` (Kafka Streams' rule: `mergedEnd + grace < streamTime`). A session
 *   can be extended by a non-late record until `streamTime > end + gap + grace`, so that is when
 *   it closes: closeAt = end + gap + grace + 1. (A late bridging record cannot reopen it.)
 */
import type { Windows } from './windows.ts';

/** The stream time at which window `[start, end]` of `windows` closes. */
export function closeAt(windows: Windows, end: number): number {
  switch (windows.kind) {
    case 'time':
      return end + windows.graceMs;
    case 'sliding':
      return end + 1 + windows.graceMs;
    case 'session':
      return end + windows.gapMs + windows.graceMs + 1;
  }
}
