/**
 * The record type of the streaming DSL: a typed key and value with event time, headers and the
 * position of the log record it came from (so that errors and dead letters can name it).
 *
 * Deletes (tombstones). The log has no null values, so a delete is written as an EMPTY value with
 * the header `sluice.tombstone` (changelogs, and topics read as tables, follow it: compaction keeps
 * the latest record per key, so the tombstone replaces the old value). Inside a topology the same
 * delete is a record whose value is `null` and whose headers carry `sluice.tombstone` (Kafka
 * Streams' null value): an update stream retracts a key with it (e.g. a session that a merge
 * replaced, window/aggregate.ts). Sinks write such a record as a tombstone (without calling the
 * value codec) and sources read a tombstone back as value `null` (again without the codec), so a
 * retraction survives a `to()`, a `repartition()` and another application's `stream()`.
 */
import type { RecordHeaders } from '../log/types.ts';

/** Where a record entered the topology: the input record it derives from. */
export interface RecordOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** A record flowing through a topology. Operators never mutate one; they make new ones. */
export interface StreamRecord<K, V> {
  readonly key: K;
  readonly value: V;
  /** Event time in ms since the epoch (from the source's timestamp extractor). */
  readonly timestamp: number;
  readonly headers: RecordHeaders;
  /** The input record this one derives from (for punctuation outputs: the task's partition, offset -1). */
  readonly origin: RecordOrigin;
}

/** A key and a value, as returned by `map` and `flatMap` functions. */
export interface KeyValue<K, V> {
  readonly key: K;
  readonly value: V;
}

/** Shared empty headers (records without headers point here instead of allocating). */
export const NO_HEADERS: RecordHeaders = Object.freeze({});

/** Header marking a delete: on the log with an empty value, in a topology with value `null`. */
export const TOMBSTONE_HEADER = 'sluice.tombstone';

/** Headers of a tombstone (shared, frozen). */
export const TOMBSTONE_HEADERS: RecordHeaders = Object.freeze({ [TOMBSTONE_HEADER]: new Uint8Array([1]) });

/** The value bytes of a tombstone on the log. */
export const TOMBSTONE_VALUE = new Uint8Array(0);

/** True when a log record (value bytes and headers) is a tombstone. */
export function isTombstone(value: Uint8Array, headers: RecordHeaders): boolean {
  return value.length === 0 && headers[TOMBSTONE_HEADER] !== undefined;
}

/** True when a topology record is a delete: value `null` and the tombstone header. */
export function isDelete(record: { readonly value: unknown; readonly headers: RecordHeaders }): boolean {
  return record.value === null && record.headers[TOMBSTONE_HEADER] !== undefined;
}
