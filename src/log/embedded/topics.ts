/**
 * Topic metadata of the embedded log: create, delete, look up, with a small per-process cache of
 * topic ids and partition counts (topics never change partition count; a deleted topic is noticed
 * when a write finds its partition rows gone).
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { PartitionInfo, TopicConfig } from '../types.ts';
import { assertTopicName } from '../validate.ts';
import { withWriteTransaction } from './database.ts';
import { dropTopicSegments } from './segment-upkeep.ts';
import { removeSegmentFiles } from './segments.ts';

/** A topic as stored. */
export interface TopicRow {
  readonly id: number;
  readonly name: string;
  readonly config: TopicConfig;
}

interface TopicSqlRow {
  id: number;
  name: string;
  partitions: number;
  retention_ms: number | null;
  retention_bytes: number | null;
  cleanup_policy: 'delete' | 'compact';
  segment_ms: number | null;
}

/** Error thrown when a topic does not exist. */
export function unknownTopic(name: string): SluiceError {
  return new SluiceError(ErrorCode.LOG_UNKNOWN_TOPIC, `unknown topic '${name}': create it first (sluice topics create ${name})`, {
    details: { topic: name },
  });
}

function toTopicRow(r: TopicSqlRow): TopicRow {
  return {
    id: r.id,
    name: r.name,
    config: {
      partitions: r.partitions,
      retentionMs: r.retention_ms,
      retentionBytes: r.retention_bytes,
      cleanupPolicy: r.cleanup_policy,
      segmentMs: r.segment_ms,
    },
  };
}

/** Reads and writes topic metadata. */
export class TopicCatalog {
  readonly #db: DatabaseSync;
  readonly #dir: string;
  readonly #cache = new Map<string, TopicRow>();
  readonly #byName: StatementSync;
  readonly #all: StatementSync;
  readonly #insert: StatementSync;
  readonly #insertPartition: StatementSync;
  readonly #partitionInfo: StatementSync;

  /** The catalog of the log in `dir`, read and written through `db`. */
  constructor(db: DatabaseSync, dir: string) {
    this.#db = db;
    this.#dir = dir;
    this.#byName = db.prepare('SELECT * FROM topics WHERE name = ?');
    this.#all = db.prepare('SELECT * FROM topics ORDER BY name');
    this.#insert = db.prepare(
      'INSERT INTO topics (name, partitions, retention_ms, retention_bytes, cleanup_policy, segment_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.#insertPartition = db.prepare(
      'INSERT INTO partitions (topic_id, partition, start_offset, end_offset, bytes, cleaned_offset) VALUES (?, ?, 0, 0, 0, 0)',
    );
    this.#partitionInfo = db.prepare(
      'SELECT partition, start_offset AS startOffset, end_offset AS endOffset FROM partitions WHERE topic_id = ? ORDER BY partition',
    );
  }

  /** Creates a topic and its partitions in one transaction. */
  create(name: string, config: TopicConfig, now: number): void {
    withWriteTransaction(this.#db, () => {
      if (this.#byName.get(name) !== undefined) {
        throw new SluiceError(ErrorCode.LOG_TOPIC_EXISTS, `topic '${name}' already exists`, { details: { topic: name } });
      }
      const { lastInsertRowid } = this.#insert.run(
        name,
        config.partitions,
        config.retentionMs,
        config.retentionBytes,
        config.cleanupPolicy,
        config.segmentMs,
        now,
      );
      for (let p = 0; p < config.partitions; p++) this.#insertPartition.run(lastInsertRowid, p);
    });
  }

  /** Deletes a topic, its records (and segment files) and its groups' committed offsets. */
  delete(name: string): void {
    const segments = withWriteTransaction(this.#db, () => {
      const row = this.#byName.get(name) as TopicSqlRow | undefined;
      if (row === undefined) throw unknownTopic(name);
      this.#db.prepare('DELETE FROM batches WHERE topic_id = ?').run(row.id);
      const dropped = dropTopicSegments(this.#db, row.id);
      this.#db.prepare('DELETE FROM partitions WHERE topic_id = ?').run(row.id);
      this.#db.prepare('DELETE FROM topics WHERE id = ?').run(row.id);
      this.#db.prepare('DELETE FROM group_offsets WHERE topic = ?').run(name);
      return dropped;
    });
    removeSegmentFiles(this.#dir, segments);
    this.#cache.delete(name);
  }

  /** The topic, or LOG_UNKNOWN_TOPIC (validating the name first). Cached after the first read. */
  get(name: string): TopicRow {
    const cached = this.#cache.get(name);
    if (cached !== undefined) return cached;
    assertTopicName(name);
    const row = this.#byName.get(name) as TopicSqlRow | undefined;
    if (row === undefined) throw unknownTopic(name);
    const topic = toTopicRow(row);
    this.#cache.set(name, topic);
    return topic;
  }

  /** Drops a cached topic (after noticing that another process deleted it). */
  forget(name: string): void {
    this.#cache.delete(name);
  }

  /** Every topic, sorted by name, read fresh from the database. */
  list(): TopicRow[] {
    return (this.#all.all() as unknown as TopicSqlRow[]).map(toTopicRow);
  }

  /** Start and end offsets of each partition of a topic. */
  partitions(topic: TopicRow): PartitionInfo[] {
    return (this.#partitionInfo.all(topic.id) as unknown as PartitionInfo[]).map((p) => ({ ...p }));
  }
}
