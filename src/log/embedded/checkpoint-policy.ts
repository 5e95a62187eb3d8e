/**
 * When a housekeeping thread copies the shared WAL into the database file (a passive checkpoint).
 * Every process that writes to a log runs one, and a checkpoint copies every process's frames, so
 * checkpointing is left to the processes that write the most: a thread checkpoints once its own
 * process has written `minBytes` since its last checkpoint, or, if its process wrote anything at
 * all, once `maxWaitMs` have passed. A process that writes little (a serving instance writing its
 * anomalies and offsets beside a telemetry ingester) then checkpoints about once a second instead
 * of every 25 ms, and spares its core and the disk (each passive checkpoint also flushes the WAL
 * and the database file); the WAL still never holds more than `maxWaitMs` of any process's writes
 * beyond what the heavy writers checkpoint.
 */

/** Defaults of {@link CheckpointPolicy}, and how often a housekeeping thread looks. */
export const CHECKPOINT_DEFAULTS = {
  intervalMs: 25,
  minBytes: 256 * 1024,
  maxWaitMs: 1_000,
  /** Bytes counted per append request beside its batches (each commit writes at least a page). */
  requestBytes: 4_096,
} as const;

/** Decides, tick by tick, whether this process's housekeeping thread checkpoints. */
export class CheckpointPolicy {
  readonly #minBytes: number;
  readonly #maxWaitMs: number;
  #pending = 0;
  #last: number;

  constructor(now: number, minBytes: number = CHECKPOINT_DEFAULTS.minBytes, maxWaitMs: number = CHECKPOINT_DEFAULTS.maxWaitMs) {
    this.#last = now;
    this.#minBytes = minBytes;
    this.#maxWaitMs = maxWaitMs;
  }

  /** Adds `written` bytes (this process's, since the last call); true when a checkpoint is due at `now`. */
  due(written: number, now: number): boolean {
    this.#pending += written;
    if (this.#pending === 0) return false;
    return this.#pending >= this.#minBytes || now - this.#last >= this.#maxWaitMs;
  }

  /** Notes a checkpoint made at `now`. */
  done(now: number): void {
    this.#pending = 0;
    this.#last = now;
  }
}
