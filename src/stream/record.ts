/**
 * The record type of the streaming DSL: a typed key and value with event time, headers and the
 * position of the log record it came from (so that errors and dead letters can name it).
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
