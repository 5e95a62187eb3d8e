/**
 * Boundary checks shared by every backend, so that bad input gives the same typed error with the
 * same code whichever backend is behind the API, and nothing is written when any record is bad.
 */
import { ErrorCode, SluiceError } from '../errors.ts';
import type { CreateTopicOptions, ProducerRecord, TopicConfig } from './types.ts';

/** Kafka's topic-name rules: 1–249 characters of [a-zA-Z0-9._-], not `.` or `..`. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** Names already found legal (bounded), so that a send checks each record's topic cheaply. */
const legalNames = new Set<string>();
const MAX_REMEMBERED_NAMES = 10_000;

/** Throws LOG_INVALID_TOPIC_NAME unless `name` is a legal topic name. */
export function assertTopicName(name: unknown): asserts name is string {
  if (typeof name === 'string' && legalNames.has(name)) return;
  if (typeof name !== 'string' || !TOPIC_NAME.test(name) || name === '.' || name === '..') {
    throw new SluiceError(
      ErrorCode.LOG_INVALID_TOPIC_NAME,
      `invalid topic name ${JSON.stringify(name)}: use 1-249 characters of a-z, A-Z, 0-9, '.', '_', '-' (not '.' or '..')`,
      { details: { topic: name } },
    );
  }
  if (legalNames.size >= MAX_REMEMBERED_NAMES) legalNames.clear();
  legalNames.add(name);
}

/** Throws LOG_INVALID_PARTITION unless `partition` is an integer in [0, partitions). */
export function assertPartition(topic: string, partition: unknown, partitions: number): asserts partition is number {
  if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0 || partition >= partitions) {
    throw new SluiceError(
      ErrorCode.LOG_INVALID_PARTITION,
      `invalid partition ${String(partition)} for topic '${topic}': it has partitions 0..${partitions - 1}`,
      { details: { topic, partition } },
    );
  }
}

/** Throws INVALID_ARGUMENT unless `value` is a non-negative safe integer. */
export function assertOffset(what: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `${what} must be a non-negative integer, got ${String(value)}`);
  }
}

/** Default topic settings. */
export const TOPIC_DEFAULTS: Omit<TopicConfig, 'partitions'> & { readonly partitions: number } = {
  partitions: 1,
  retentionMs: null,
  retentionBytes: null,
  cleanupPolicy: 'delete',
  segmentMs: null,
};

/** Validates create-topic options and fills in the defaults. */
export function resolveTopicConfig(name: string, options: CreateTopicOptions = {}): TopicConfig {
  assertTopicName(name);
  const config: TopicConfig = { ...TOPIC_DEFAULTS, ...definedOnly(options) };
  const bad = (path: string, reason: string): never => {
    throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `topic '${name}': ${path} ${reason}`, { details: { topic: name, path } });
  };
  if (!Number.isInteger(config.partitions) || config.partitions < 1 || config.partitions > 10_000) {
    bad('partitions', `must be an integer in 1..10000, got ${String(config.partitions)}`);
  }
  if (config.retentionMs !== null && !(Number.isSafeInteger(config.retentionMs) && config.retentionMs > 0)) {
    bad('retentionMs', `must be a positive integer or null, got ${String(config.retentionMs)}`);
  }
  if (config.retentionBytes !== null && !(Number.isSafeInteger(config.retentionBytes) && config.retentionBytes > 0)) {
    bad('retentionBytes', `must be a positive integer or null, got ${String(config.retentionBytes)}`);
  }
  if (config.segmentMs !== null && !(Number.isSafeInteger(config.segmentMs) && config.segmentMs > 0)) {
    bad('segmentMs', `must be a positive integer or null, got ${String(config.segmentMs)}`);
  }
  if (config.cleanupPolicy !== 'delete' && config.cleanupPolicy !== 'compact') {
    bad('cleanupPolicy', `must be 'delete' or 'compact', got ${JSON.stringify(config.cleanupPolicy)}`);
  }
  return config;
}

/** A copy of `o` without its undefined fields, so that they don't override defaults. */
export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Size a record occupies for `maxRecordBytes`: key + value + header names and values. */
export function recordSize(record: ProducerRecord): number {
  let size = record.value.byteLength + (record.key?.byteLength ?? 0);
  if (record.headers !== undefined) {
    for (const name in record.headers) size += Buffer.byteLength(name) + (record.headers[name]?.byteLength ?? 0);
  }
  return size;
}

/**
 * Checks one record before anything of its batch is written: topic name, bytes for key, value and
 * headers, timestamp, size. Index `i` names the record in the message. Returns the record's size
 * ({@link recordSize}).
 */
export function assertProducerRecord(record: ProducerRecord, i: number, maxRecordBytes: number): number {
  if (record === null || typeof record !== 'object') {
    throw new SluiceError(ErrorCode.LOG_INVALID_RECORD, `record ${i}: must be an object with topic and value`, { details: { index: i } });
  }
  assertTopicName(record.topic);
  if (!(record.value instanceof Uint8Array)) invalidRecord(record, i, `value must be bytes (Uint8Array), got ${typeName(record.value)}`);
  if (record.key != null && !(record.key instanceof Uint8Array)) invalidRecord(record, i, `key must be bytes (Uint8Array) or null, got ${typeName(record.key)}`);
  if (record.headers !== undefined) {
    if (record.headers === null || typeof record.headers !== 'object') invalidRecord(record, i, 'headers must be an object of name → bytes');
    for (const name in record.headers) {
      if (!(record.headers[name] instanceof Uint8Array)) invalidRecord(record, i, `header '${name}' must be bytes (Uint8Array), got ${typeName(record.headers[name])}`);
    }
  }
  if (record.timestamp !== undefined && !(Number.isSafeInteger(record.timestamp) && record.timestamp >= 0)) {
    invalidRecord(record, i, `timestamp must be a non-negative integer of ms, got ${String(record.timestamp)}`);
  }
  const size = recordSize(record);
  if (size > maxRecordBytes) {
    throw new SluiceError(
      ErrorCode.LOG_RECORD_TOO_LARGE,
      `record ${i} for topic '${record.topic}' is ${size} bytes, over the limit of ${maxRecordBytes} (maxRecordBytes)`,
      { details: { index: i, topic: record.topic, size, maxRecordBytes } },
    );
  }
  return size;
}

function invalidRecord(record: ProducerRecord, i: number, reason: string): never {
  throw new SluiceError(ErrorCode.LOG_INVALID_RECORD, `record ${i} for topic '${record.topic}': ${reason}`, {
    details: { index: i, topic: record.topic },
  });
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** Throws LOG_CLOSED when `closed`, naming the client. */
export function assertOpen(closed: boolean, what: string): void {
  if (closed) throw new SluiceError(ErrorCode.LOG_CLOSED, `${what} is closed`);
}
