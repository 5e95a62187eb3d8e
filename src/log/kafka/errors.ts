/**
 * Maps @platformatic/kafka errors (and the broker error codes inside them) to typed SluiceErrors,
 * so that callers see the same codes as on the embedded backend.
 */
import { findErrorBy, GenericError, TimeoutError } from '@platformatic/kafka';
import { ErrorCode, SluiceError } from '../../errors.ts';

/** Broker error ids (Kafka's protocol error names) that map to a specific Sluice code. */
const BY_API_ID: Readonly<Record<string, ErrorCode>> = {
  UNKNOWN_TOPIC_OR_PARTITION: ErrorCode.LOG_UNKNOWN_TOPIC,
  UNKNOWN_TOPIC_ID: ErrorCode.LOG_UNKNOWN_TOPIC,
  TOPIC_ALREADY_EXISTS: ErrorCode.LOG_TOPIC_EXISTS,
  INVALID_PRODUCER_EPOCH: ErrorCode.LOG_PRODUCER_FENCED,
  PRODUCER_FENCED: ErrorCode.LOG_PRODUCER_FENCED,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: ErrorCode.LOG_PRODUCER_FENCED,
  INVALID_TXN_STATE: ErrorCode.LOG_TRANSACTION_STATE,
  MESSAGE_TOO_LARGE: ErrorCode.LOG_RECORD_TOO_LARGE,
  RECORD_LIST_TOO_LARGE: ErrorCode.LOG_RECORD_TOO_LARGE,
  OFFSET_OUT_OF_RANGE: ErrorCode.LOG_OFFSET_OUT_OF_RANGE,
  ILLEGAL_GENERATION: ErrorCode.LOG_REBALANCE_IN_PROGRESS,
  UNKNOWN_MEMBER_ID: ErrorCode.LOG_REBALANCE_IN_PROGRESS,
  REBALANCE_IN_PROGRESS: ErrorCode.LOG_REBALANCE_IN_PROGRESS,
  FENCED_INSTANCE_ID: ErrorCode.LOG_REBALANCE_IN_PROGRESS,
  REQUEST_TIMED_OUT: ErrorCode.LOG_TIMEOUT,
};

/** The first broker error id found anywhere inside a client error, if any. */
export function brokerErrorId(error: unknown): string | undefined {
  if (!(error instanceof Error) || !GenericError.isGenericError(error)) return undefined;
  for (const id of Object.keys(BY_API_ID)) {
    if (findErrorBy(error, 'apiId', id) !== null) return id;
  }
  const any = findErrorBy(error, 'code', 'PLT_KFK_PROTOCOL') as (GenericError & { apiId?: string }) | null;
  return any?.apiId;
}

/** True when the client reports that a topic does not exist (a broker code or its own check). */
export function isUnknownTopic(error: unknown): boolean {
  if (brokerErrorId(error) === 'UNKNOWN_TOPIC_OR_PARTITION' || brokerErrorId(error) === 'UNKNOWN_TOPIC_ID') return true;
  return error instanceof Error && /Unknown topic/i.test(error.message);
}

/**
 * Wraps any error from the client in a SluiceError: a specific code where the broker said why,
 * LOG_TIMEOUT for timeouts, otherwise LOG_BACKEND. SluiceErrors pass through unchanged.
 */
export function toSluiceError(error: unknown, what: string, details: Record<string, unknown> = {}): SluiceError {
  if (error instanceof SluiceError) return error;
  const id = brokerErrorId(error);
  const message = error instanceof Error ? error.message : String(error);
  const canRetry = error instanceof GenericError && (error as GenericError & { canRetry?: boolean }).canRetry === true;
  if (id !== undefined && BY_API_ID[id] !== undefined) {
    const code = BY_API_ID[id];
    const retriable = code === ErrorCode.LOG_REBALANCE_IN_PROGRESS || code === ErrorCode.LOG_TIMEOUT;
    return new SluiceError(code, `${what}: ${id} (${message})`, { cause: error, retriable, details: { ...details, brokerError: id } });
  }
  if (error instanceof Error && /Unknown topic/i.test(error.message)) {
    return new SluiceError(ErrorCode.LOG_UNKNOWN_TOPIC, `${what}: ${message}`, { cause: error, details });
  }
  if (error instanceof TimeoutError || (error instanceof Error && findErrorBy(error, 'code', 'PLT_KFK_TIMEOUT') !== null)) {
    return new SluiceError(ErrorCode.LOG_TIMEOUT, `${what}: timed out (${message})`, { cause: error, retriable: true, details });
  }
  return new SluiceError(ErrorCode.LOG_BACKEND, `${what}: ${id ?? message}`, {
    cause: error,
    retriable: canRetry,
    details: id === undefined ? details : { ...details, brokerError: id },
  });
}

/** Runs `op`, rethrowing any failure as a SluiceError (see {@link toSluiceError}). */
export async function wrap<T>(what: string, op: () => Promise<T>, details?: Record<string, unknown>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    throw toSluiceError(error, what, details);
  }
}
