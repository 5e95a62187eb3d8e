/** Defaults of producer and consumer options, the same on every backend (types.ts documents them). */

/** Producer option defaults. */
export const PRODUCER_DEFAULTS = {
  acks: 'all',
  idempotent: true,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxRecordBytes: 1024 * 1024,
  lingerMs: 0,
} as const;

/** Consumer option defaults. */
export const CONSUMER_DEFAULTS = {
  isolationLevel: 'read_committed',
  autoOffsetReset: 'earliest',
  maxPollRecords: 10_000,
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
} as const;
