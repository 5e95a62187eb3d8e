/**
 * Kafka's default partitioner, so that a key lands on the same partition number on every backend.
 *
 * murmur2 is MurmurHash2 (Austin Appleby) as Kafka's `Utils.murmur2` implements it: 32-bit, seed
 * 0x9747b28c, little-endian 4-byte blocks, tail bytes mixed high to low. The partition of a keyed
 * record is `(murmur2(key) & 0x7fffffff) % partitions` (`Utils.toPositive`). Unkeyed records go
 * round-robin here (Kafka uses a sticky partitioner; any spread is valid for unkeyed records).
 */

import type { ProducerRecord } from './types.ts';
import { assertPartition } from './validate.ts';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** Kafka's 32-bit murmur2 hash of `data`, as a signed 32-bit integer (same as Java's int). */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const blocks = length >>> 2;
  for (let i = 0; i < blocks; i++) {
    const j = i << 2;
    let k = (data[j]! | (data[j + 1]! << 8) | (data[j + 2]! << 16) | (data[j + 3]! << 24)) | 0;
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  const tail = blocks << 2;
  switch (length & 3) {
    case 3:
      h ^= data[tail + 2]! << 16;
    // falls through
    case 2:
      h ^= data[tail + 1]! << 8;
    // falls through
    case 1:
      h ^= data[tail]!;
      h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Partition of a keyed record among `partitions`, exactly as Kafka's default partitioner. */
export function partitionForKey(key: Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/** Chooses partitions: by key when there is one, round-robin otherwise. */
export class DefaultPartitioner {
  #next = 0;

  /**
   * Partition of a record for a topic with `partitions` partitions: its explicit partition
   * (checked: LOG_INVALID_PARTITION), else by key, else round-robin.
   */
  choose(record: ProducerRecord, partitions: number): number {
    if (record.partition === undefined) return this.partition(record.key, partitions);
    assertPartition(record.topic, record.partition, partitions);
    return record.partition;
  }

  /** Partition for a key (round-robin when null) among `partitions`. */
  partition(key: Uint8Array | null | undefined, partitions: number): number {
    if (key != null) return partitionForKey(key, partitions);
    const p = this.#next % partitions;
    this.#next = (this.#next + 1) | 0;
    return p < 0 ? -p : p;
  }
}
