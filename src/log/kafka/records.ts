/**
 * Converts between Sluice records and the client's wire records: validation of a whole batch
 * before anything is sent, partition choice (our murmur2 partitioner, so keys land where they land
 * on every backend), and per-record offsets from the per-partition base offsets of a produce.
 */
import type { MessageToProduce } from '@platformatic/kafka';
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { DefaultPartitioner } from '../partitioner.ts';
import type { ProducerRecord, RecordMetadata } from '../types.ts';
import { assertProducerRecord } from '../validate.ts';
import type { TopicCache } from './client.ts';

/** A batch ready to hand to the client, with its size for buffering. */
export interface PreparedBatch {
  readonly messages: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[];
  readonly bytes: number;
}

/** V8 keeps typed arrays up to this size on its heap (V8_TYPED_ARRAY_MAX_SIZE_IN_HEAP). */
const ON_HEAP_BYTES = 64;

/**
 * Bytes as a Buffer: a view without copying, except for small arrays, which are copied: one may
 * live on the V8 heap, where asking for its ArrayBuffer moves it off the heap (~0.5 µs, several
 * times the copy).
 */
export function asBuffer(bytes: Uint8Array): Buffer {
  if (Buffer.isBuffer(bytes)) return bytes;
  if (bytes.byteLength <= ON_HEAP_BYTES) return Buffer.from(bytes);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Validates every record (nothing is sent if any is bad), looks up the partition count of each
 * topic (LOG_UNKNOWN_TOPIC if absent), checks explicit partitions and picks the others.
 */
export async function prepareBatch(
  records: readonly ProducerRecord[],
  maxRecordBytes: number,
  topics: TopicCache,
  partitioner: DefaultPartitioner,
): Promise<PreparedBatch> {
  if (!Array.isArray(records)) {
    throw new SluiceError(ErrorCode.INVALID_ARGUMENT, 'send() takes an array of records');
  }
  let bytes = 0;
  records.forEach((r, i) => {
    bytes += assertProducerRecord(r, i, maxRecordBytes);
  });
  const counts = new Map<string, number>();
  for (const r of records) {
    if (!counts.has(r.topic)) counts.set(r.topic, (await topics.get(r.topic)).partitions);
  }
  const now = BigInt(Date.now());
  const messages = records.map((r) => {
    const partition = partitioner.choose(r, counts.get(r.topic)!);
    const message: MessageToProduce<Buffer, Buffer, Buffer, Buffer> = {
      topic: r.topic,
      partition,
      value: asBuffer(r.value),
      timestamp: r.timestamp === undefined ? now : BigInt(r.timestamp),
    };
    if (r.key != null) message.key = asBuffer(r.key);
    if (r.headers !== undefined) {
      let headers: Map<Buffer, Buffer> | undefined;
      for (const name in r.headers) (headers ??= new Map()).set(Buffer.from(name, 'utf8'), asBuffer(r.headers[name]!));
      if (headers !== undefined) message.headers = headers;
    }
    return message;
  });
  return { messages, bytes };
}

/**
 * Where each record landed, in input order. A produce returns the base offset of each partition's
 * batch; records of one partition within one request get consecutive offsets in input order.
 * Offsets are -1 when the broker did not answer (acks none).
 */
export function recordMetadata(
  messages: readonly MessageToProduce<Buffer, Buffer, Buffer, Buffer>[],
  offsets: readonly { topic: string; partition: number; offset: bigint }[] | undefined,
): RecordMetadata[] {
  const base = new Map<string, number>();
  for (const o of offsets ?? []) base.set(`${o.topic}\u0000${o.partition}`, Number(o.offset));
  const next = new Map<string, number>();
  return messages.map((m) => {
    const key = `${m.topic}\u0000${m.partition!}`;
    const start = base.get(key);
    const i = next.get(key) ?? 0;
    next.set(key, i + 1);
    return { topic: m.topic, partition: m.partition!, offset: start === undefined ? -1 : start + i };
  });
}

/** Bytes of records gathered into one produce request (a larger single record goes alone). */
export const REQUEST_BYTES = 1024 * 1024;

/** Cuts messages, in order, into chunks of at most REQUEST_BYTES (each with at least one message). */
export function chunkMessages<M extends { key?: Buffer | undefined; value?: Buffer | undefined; headers?: unknown }>(messages: readonly M[]): M[][] {
  const chunks: M[][] = [];
  let current: M[] = [];
  let size = 0;
  for (const m of messages) {
    let bytes = (m.key?.byteLength ?? 0) + (m.value?.byteLength ?? 0) + 64;
    if (m.headers instanceof Map) for (const [k, v] of m.headers as Map<Buffer, Buffer>) bytes += k.byteLength + v.byteLength;
    if (current.length > 0 && size + bytes > REQUEST_BYTES) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(m);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
