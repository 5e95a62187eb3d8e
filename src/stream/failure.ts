/**
 * The typed errors of the stream layer's record handling: a record that could not be decoded or
 * timestamped (STREAM_DESERIALIZATION, STREAM_INVALID_TIMESTAMP) and a user function or output
 * encoding that threw (STREAM_PROCESSING). Each names the node and the input record (topic,
 * partition, offset) in its message and `details`, so that the error policy can act on that record.
 */
import { ErrorCode, SluiceError, isSluiceError } from '../errors.ts';
import type { RecordOrigin } from './record.ts';

/** Whether a failure happened while reading a record or while processing it. */
export const FailureKind = { deserialization: 'deserialization', processing: 'processing' } as const;
/** `deserialization` or `processing`. */
export type FailureKind = (typeof FailureKind)[keyof typeof FailureKind];

/** Offset used in origins of records made by punctuation (no input record). */
export const NO_OFFSET = -1;

function where(origin: RecordOrigin): string {
  return origin.offset === NO_OFFSET ? `${origin.topic}/${origin.partition} (punctuation)` : `${origin.topic}/${origin.partition}@${origin.offset}`;
}

function message(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** A user function (or output encoding) in node `node` threw while handling the record from `origin`. */
export function processingError(node: string, origin: RecordOrigin, cause: unknown): SluiceError {
  return new SluiceError(ErrorCode.STREAM_PROCESSING, `stream node '${node}' failed on record ${where(origin)}: ${message(cause)}`, {
    cause,
    details: { kind: FailureKind.processing, node, topic: origin.topic, partition: origin.partition, offset: origin.offset },
  });
}

/** The record at `origin` could not be decoded by the source `node`. */
export function deserializationError(node: string, origin: RecordOrigin, cause: unknown): SluiceError {
  return new SluiceError(ErrorCode.STREAM_DESERIALIZATION, `stream source '${node}' cannot decode record ${where(origin)}: ${message(cause)}`, {
    cause,
    details: { kind: FailureKind.deserialization, node, topic: origin.topic, partition: origin.partition, offset: origin.offset },
  });
}

/** The timestamp extractor of source `node` returned something other than a finite time ≥ 0. */
export function invalidTimestampError(node: string, origin: RecordOrigin, timestamp: unknown): SluiceError {
  return new SluiceError(
    ErrorCode.STREAM_INVALID_TIMESTAMP,
    `stream source '${node}' got an invalid timestamp ${String(timestamp)} for record ${where(origin)}: it must be a finite number ≥ 0`,
    { details: { kind: FailureKind.deserialization, node, topic: origin.topic, partition: origin.partition, offset: origin.offset } },
  );
}

/** A record failure (one of the three above), which the error policy handles. */
export interface RecordFailure extends SluiceError {
  readonly details: { readonly kind: FailureKind; readonly node: string; readonly topic: string; readonly partition: number; readonly offset: number };
}

/** True when `error` is a record failure made by this module. */
export function isRecordFailure(error: unknown): error is RecordFailure {
  return (
    (isSluiceError(error, ErrorCode.STREAM_PROCESSING) ||
      isSluiceError(error, ErrorCode.STREAM_DESERIALIZATION) ||
      isSluiceError(error, ErrorCode.STREAM_INVALID_TIMESTAMP)) &&
    typeof error.details.kind === 'string'
  );
}

/** Wraps anything a node threw as a processing error, keeping record failures made further down. */
export function asProcessingError(node: string, origin: RecordOrigin, error: unknown): SluiceError {
  return isRecordFailure(error) ? error : processingError(node, origin, error);
}
