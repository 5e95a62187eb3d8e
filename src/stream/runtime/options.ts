/**
 * Options of `run()`, their defaults (one object, DESIGN.md §6.3) and their validation at the
 * boundary (INVALID_ARGUMENT naming the option and the reason).
 */
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { Log, OffsetReset } from '../../log/types.ts';
import type { Clock } from '../clock.ts';

/**
 * Delivery guarantees. `at-least-once`: outputs are produced, then offsets committed (a crash may
 * duplicate outputs). `exactly-once`: one log transaction per commit interval (commit-eos.ts).
 */
export const DeliveryMode = { atLeastOnce: 'at-least-once', exactlyOnce: 'exactly-once' } as const;
/** How outputs and input offsets are committed. */
export type DeliveryMode = (typeof DeliveryMode)[keyof typeof DeliveryMode];

/** Options of {@link run}. */
export interface RunOptions {
  /** The log to read and write. */
  readonly log: Log;
  /** Names the consumer group and the internal topics (`<applicationId>-<name>-repartition`). */
  readonly applicationId: string;
  /** Default `at-least-once`. */
  readonly delivery?: DeliveryMode;
  /**
   * Stable name of this instance within the application (exactly-once: the transactional id is
   * `<applicationId>-<instanceId>`, so a restarted instance fences its predecessor). Give every
   * instance its own and keep it across restarts. Default: random per run.
   */
  readonly instanceId?: string;
  /** Wall clock for punctuation. Default: the system clock. */
  readonly clock?: Clock;
  /** Largest batch of input records per poll (the bound of in-flight input). Default 1 000. */
  readonly maxBatchRecords?: number;
  /** Longest wait of one poll, in ms (also the wall-clock punctuation granularity). Default 100. */
  readonly pollTimeoutMs?: number;
  /**
   * How often input offsets are committed, in ms (always also on revoke, on close and when idle),
   * with the state stores' changelog records (the latest per key since the last commit). At-least-
   * once: only offsets of batches whose outputs and state are acknowledged. Exactly-once: the
   * length of a transaction (Kafka Streams' commit.interval.ms). 0: after every batch. Default 100.
   */
  readonly commitIntervalMs?: number;
  /**
   * At-least-once: batches whose outputs may be unacknowledged while the next ones are polled and
   * processed (backpressure beyond). 1: no overlap. Default 4.
   */
  readonly maxInFlightBatches?: number;
  /**
   * At-least-once: the longest an output waits for the end of its batch, in ms (checked every 16
   * records). When set, the outputs collected so far are sent ahead of the batch's end (their input
   * offsets still wait for the batch) at the next check when no earlier early send is still
   * unacknowledged or the last one left at least this long ago — so a rare output, such as an
   * alert, leaves at once — and otherwise at the first check after that: at most one early send per
   * this long while sends are unacknowledged. For apps whose outputs must leave quickly; each early
   * send is one more append. Default: none (outputs go with their batch).
   * Exactly-once ignores it (outputs become visible with the transaction anyway).
   */
  readonly maxOutputDelayMs?: number;
  /** Where a partition without a committed offset starts. Default `earliest`. */
  readonly autoOffsetReset?: OffsetReset;
  /** Consumer group session timeout in ms. Default 10 000. */
  readonly sessionTimeoutMs?: number;
  /** Consumer group heartbeat interval in ms. Default 1 000. */
  readonly heartbeatIntervalMs?: number;
  /** Partitions of internal topics that do not set their own. Default: the most among the inputs. */
  readonly internalTopicPartitions?: number;
  /**
   * Least time between two samples of the input partitions' end offsets for the lag metric, in ms
   * (new tasks are sampled at the next poll regardless). Default 1 000.
   */
  readonly lagRefreshMs?: number;
  /** Called once if the application stops on an error (it is also on the handle). */
  readonly onError?: (error: Error) => void;
}

/** Defaults of {@link RunOptions}. */
export const RUN_DEFAULTS = {
  delivery: 'at-least-once',
  maxBatchRecords: 1_000,
  pollTimeoutMs: 100,
  commitIntervalMs: 100,
  maxInFlightBatches: 4,
  autoOffsetReset: 'earliest',
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  lagRefreshMs: 1_000,
} as const;

function invalid(path: string, reason: string): SluiceError {
  return new SluiceError(ErrorCode.INVALID_ARGUMENT, `run(): /${path} ${reason}`, { details: { path: `/${path}` } });
}

function positiveInt(path: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)) {
    throw invalid(path, `must be an integer ≥ 1, got ${String(value)}`);
  }
}

/** Throws INVALID_ARGUMENT for the first invalid option. */
export function validateRunOptions(options: RunOptions): void {
  if (typeof options !== 'object' || options === null) throw invalid('', 'options must be an object with log and applicationId');
  if (typeof options.log?.consumer !== 'function') throw invalid('log', 'must be a Log (from openLog)');
  if (typeof options.applicationId !== 'string' || !/^[A-Za-z0-9._-]{1,100}$/.test(options.applicationId)) {
    throw invalid('applicationId', `must be 1-100 characters of A-Z a-z 0-9 . _ -, got ${JSON.stringify(options.applicationId)}`);
  }
  if (options.delivery !== undefined && options.delivery !== 'at-least-once' && options.delivery !== 'exactly-once') {
    throw invalid('delivery', `must be 'at-least-once' or 'exactly-once', got ${JSON.stringify(options.delivery)}`);
  }
  if (options.instanceId !== undefined && (typeof options.instanceId !== 'string' || !/^[A-Za-z0-9._-]{1,100}$/.test(options.instanceId))) {
    throw invalid('instanceId', `must be 1-100 characters of A-Z a-z 0-9 . _ -, got ${JSON.stringify(options.instanceId)}`);
  }
  for (const name of ['maxBatchRecords', 'pollTimeoutMs', 'sessionTimeoutMs', 'heartbeatIntervalMs', 'internalTopicPartitions', 'maxInFlightBatches', 'lagRefreshMs'] as const) {
    positiveInt(name, options[name]);
  }
  const delay = options.maxOutputDelayMs;
  if (delay !== undefined && (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0)) {
    throw invalid('maxOutputDelayMs', `must be a number of ms ≥ 0, got ${String(delay)}`);
  }
  const interval = options.commitIntervalMs;
  if (interval !== undefined && (typeof interval !== 'number' || !Number.isSafeInteger(interval) || interval < 0)) {
    throw invalid('commitIntervalMs', `must be an integer ≥ 0, got ${String(interval)}`);
  }
  if (options.autoOffsetReset !== undefined && options.autoOffsetReset !== 'earliest' && options.autoOffsetReset !== 'latest') {
    throw invalid('autoOffsetReset', `must be 'earliest' or 'latest', got ${JSON.stringify(options.autoOffsetReset)}`);
  }
  if (options.clock !== undefined && typeof options.clock.now !== 'function') throw invalid('clock', 'must have a now() method');
  if (options.onError !== undefined && typeof options.onError !== 'function') throw invalid('onError', 'must be a function');
}
