/**
 * Dead letters of the scoring service (`telemetry.dlq`): the original key and value bytes and
 * headers of a rejected telemetry record, plus
 *
 *   sluice.dlq.reason    why (telemetry-check.ts: oversize, decode, device-id, metric, timestamp,
 *                        invalid, skew, key-mismatch, capacity; `scoring` when the model failed on it)
 *   sluice.dlq.source    where it was read: `<topic>/<partition>/<offset>`
 *   sluice.dlq.message   the reason in words, naming the field (UTF-8, at most 1,000 characters)
 */
import type { RecordHeaders } from '../log/index.ts';

/** Header names of dead letters. */
export const DlqHeader = { reason: 'sluice.dlq.reason', source: 'sluice.dlq.source', message: 'sluice.dlq.message' } as const;

const encoder = new TextEncoder();
const MAX_MESSAGE = 1_000;

/** The headers of the dead letter of a record read at `origin`. */
export function deadLetterHeaders(
  original: RecordHeaders,
  origin: { readonly topic: string; readonly partition: number; readonly offset: number },
  reason: string,
  message: string,
): RecordHeaders {
  return {
    ...original,
    [DlqHeader.reason]: encoder.encode(reason),
    [DlqHeader.source]: encoder.encode(`${origin.topic}/${origin.partition}/${origin.offset}`),
    [DlqHeader.message]: encoder.encode(message.slice(0, MAX_MESSAGE)),
  };
}
