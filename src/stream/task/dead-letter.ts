/**
 * Dead letters: the original record (key, value, timestamp and headers, byte for byte) produced to
 * the topology's dead-letter topic, with the failure in extra headers:
 *
 *   sluice.error.code        the SluiceError code (e.g. SLUICE_STREAM_DESERIALIZATION)
 *   sluice.error.kind        `deserialization` or `processing`
 *   sluice.error.node        the topology node that failed
 *   sluice.error.message     the message (UTF-8, at most 1,000 characters)
 *   sluice.source.topic      topic, partition and offset of the original record (decimal text)
 *   sluice.source.partition
 *   sluice.source.offset
 *   sluice.application.id    the application that rejected it
 */
import type { LogRecord, ProducerRecord } from '../../log/types.ts';
import type { RecordFailure } from '../failure.ts';

/** Header names of dead letters. */
export const DeadLetterHeader = {
  errorCode: 'sluice.error.code',
  errorKind: 'sluice.error.kind',
  errorNode: 'sluice.error.node',
  errorMessage: 'sluice.error.message',
  sourceTopic: 'sluice.source.topic',
  sourcePartition: 'sluice.source.partition',
  sourceOffset: 'sluice.source.offset',
  applicationId: 'sluice.application.id',
} as const;

const encoder = new TextEncoder();
const MAX_MESSAGE = 1_000;

/** The dead letter of `raw`, which failed with `failure`, for `topic`. */
export function deadLetter(raw: LogRecord, failure: RecordFailure, topic: string, applicationId: string): ProducerRecord {
  const text = (s: string | number): Uint8Array => encoder.encode(String(s));
  return {
    topic,
    key: raw.key,
    value: raw.value,
    timestamp: raw.timestamp,
    headers: {
      ...raw.headers,
      [DeadLetterHeader.errorCode]: text(failure.code),
      [DeadLetterHeader.errorKind]: text(failure.details.kind),
      [DeadLetterHeader.errorNode]: text(failure.details.node),
      [DeadLetterHeader.errorMessage]: text(failure.message.slice(0, MAX_MESSAGE)),
      [DeadLetterHeader.sourceTopic]: text(raw.topic),
      [DeadLetterHeader.sourcePartition]: text(raw.partition),
      [DeadLetterHeader.sourceOffset]: text(raw.offset),
      [DeadLetterHeader.applicationId]: text(applicationId),
    },
  };
}
