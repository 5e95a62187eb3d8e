/**
 * Typed errors shared by every layer (DESIGN.md §6.4): one base class with a stable `code`,
 * an optional `cause` and a `retriable` flag. Codes are listed here so that callers and the HTTP
 * layer can switch on them; never match on message text.
 */

/** Every stable error code Sluice raises, grouped by layer. */
export const ErrorCode = {
  INVALID_ARGUMENT: 'SLUICE_INVALID_ARGUMENT',
  CONFIG_INVALID: 'SLUICE_CONFIG_INVALID',
  LOG_INVALID_TOPIC_NAME: 'SLUICE_LOG_INVALID_TOPIC_NAME',
  LOG_UNKNOWN_TOPIC: 'SLUICE_LOG_UNKNOWN_TOPIC',
  LOG_TOPIC_EXISTS: 'SLUICE_LOG_TOPIC_EXISTS',
  LOG_INVALID_PARTITION: 'SLUICE_LOG_INVALID_PARTITION',
  LOG_RECORD_TOO_LARGE: 'SLUICE_LOG_RECORD_TOO_LARGE',
  LOG_INVALID_RECORD: 'SLUICE_LOG_INVALID_RECORD',
  LOG_OFFSET_OUT_OF_RANGE: 'SLUICE_LOG_OFFSET_OUT_OF_RANGE',
  LOG_NOT_ASSIGNED: 'SLUICE_LOG_NOT_ASSIGNED',
  LOG_NO_GROUP: 'SLUICE_LOG_NO_GROUP',
  LOG_REBALANCE_IN_PROGRESS: 'SLUICE_LOG_REBALANCE_IN_PROGRESS',
  LOG_CLOSED: 'SLUICE_LOG_CLOSED',
  LOG_TRANSACTION_STATE: 'SLUICE_LOG_TRANSACTION_STATE',
  LOG_PRODUCER_FENCED: 'SLUICE_LOG_PRODUCER_FENCED',
  LOG_TIMEOUT: 'SLUICE_LOG_TIMEOUT',
  LOG_BACKEND: 'SLUICE_LOG_BACKEND',
  LOG_STORAGE_CORRUPT: 'SLUICE_LOG_STORAGE_CORRUPT',
  CODEC_DECODE: 'SLUICE_CODEC_DECODE',
  CODEC_ENCODE: 'SLUICE_CODEC_ENCODE',
  CODEC_VALIDATION: 'SLUICE_CODEC_VALIDATION',
  MODEL_INVALID: 'SLUICE_MODEL_INVALID',
  MODEL_UNKNOWN_KIND: 'SLUICE_MODEL_UNKNOWN_KIND',
  MODEL_UNKNOWN_FORMAT: 'SLUICE_MODEL_UNKNOWN_FORMAT',
  MODEL_CHECKSUM_MISMATCH: 'SLUICE_MODEL_CHECKSUM_MISMATCH',
  MODEL_FEATURE_MISMATCH: 'SLUICE_MODEL_FEATURE_MISMATCH',
  MODEL_TOO_LARGE: 'SLUICE_MODEL_TOO_LARGE',
  MODEL_NOT_FOUND: 'SLUICE_MODEL_NOT_FOUND',
  MODEL_ONNX: 'SLUICE_MODEL_ONNX',
  MODEL_VERSION_CONFLICT: 'SLUICE_MODEL_VERSION_CONFLICT',
  EVAL_INVALID_DATA: 'SLUICE_EVAL_INVALID_DATA',
  TRAINING_INVALID_RANGE: 'SLUICE_TRAINING_INVALID_RANGE',
  TRAINING_EMPTY_RANGE: 'SLUICE_TRAINING_EMPTY_RANGE',
  TRAINING_ABORTED: 'SLUICE_TRAINING_ABORTED',
  STREAM_INVALID_TOPOLOGY: 'SLUICE_STREAM_INVALID_TOPOLOGY',
  STREAM_DESERIALIZATION: 'SLUICE_STREAM_DESERIALIZATION',
  STREAM_INVALID_TIMESTAMP: 'SLUICE_STREAM_INVALID_TIMESTAMP',
  STREAM_PROCESSING: 'SLUICE_STREAM_PROCESSING',
  STREAM_CLOSED: 'SLUICE_STREAM_CLOSED',
  STREAM_WORKER_FAILED: 'SLUICE_STREAM_WORKER_FAILED',
  SERVING_PROBE_FAILED: 'SLUICE_SERVING_PROBE_FAILED',
  SERVING_NOT_READY: 'SLUICE_SERVING_NOT_READY',
  HTTP_NOT_FOUND: 'SLUICE_HTTP_NOT_FOUND',
} as const;

/** Union of every stable error code. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Options accepted by {@link SluiceError}. */
export interface SluiceErrorOptions {
  /** The underlying error, if this one wraps another. */
  readonly cause?: unknown;
  /** True when the same call may succeed if retried later. Default false. */
  readonly retriable?: boolean;
  /** Machine-readable facts about the failure (topic, partition, offset, path…). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Base class of every error Sluice throws on purpose. */
export class SluiceError extends Error {
  /** Stable code; safe to switch on. */
  readonly code: ErrorCode;
  /** True when retrying the same call later may succeed. */
  readonly retriable: boolean;
  /** Machine-readable facts about the failure. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: SluiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SluiceError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.details = options.details ?? {};
  }
}

/** True when `error` is a {@link SluiceError}, optionally with the given code. */
export function isSluiceError(error: unknown, code?: ErrorCode): error is SluiceError {
  return error instanceof SluiceError && (code === undefined || error.code === code);
}
