/**
 * Keeping the segment files (segments.ts) and their rows in step: after a power loss, cutting
 * partitions back before a batch that never reached its file (the writer thread, before its first
 * append); dropping the rows of segments no batch needs any more (retention, topic deletion; the
 * files go once that commits); and removing files that no row names (a process stopped in
 * between; the housekeeping thread, at its first pass).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { BatchCursor } from './batch.ts';
import { removeSegmentFiles, SEGMENTS_DIR, type SegmentReader } from './segments.ts';

/**
 * After a power loss a committed batch may point past what reached a segment file. Checks every
 * batch beyond its segment's flushed size (in the caller's write transaction) and cuts a partition
 * back before its first damaged batch: its rows from there on, and its later segments, go, so the
 * partition ends where its intact records end. Returns the segments to remove once committed.
 */
export function recoverSegments(db: DatabaseSync, reader: SegmentReader): number[] {
  const removed: number[] = [];
  const unflushed = db.prepare('SELECT id, topic_id, partition, flushed FROM segments WHERE size > flushed ORDER BY id').all() as unknown as Array<{
    id: number;
    topic_id: number;
    partition: number;
    flushed: number;
  }>;
  const batches = db.prepare(
    'SELECT base_offset, position, bytes FROM batches WHERE topic_id = ? AND partition = ? AND segment = ? AND position + bytes > ? ORDER BY position',
  );
  for (const s of unflushed) {
    for (const b of batches.all(s.topic_id, s.partition, s.id, s.flushed) as unknown as Array<{ base_offset: number; position: number; bytes: number }>) {
      const bytes = reader.read(s.topic_id, s.partition, s.id, b.position, b.bytes);
      if (bytes !== null && intact(bytes)) continue;
      removed.push(...truncatePartition(db, s, b));
      break;
    }
  }
  return removed;
}

function intact(bytes: Uint8Array): boolean {
  try {
    new BatchCursor(bytes, { topic: '', partition: 0, baseOffset: 0 });
    return true;
  } catch {
    return false;
  }
}

/** Drops a partition's batches from `from` on and the segments after its segment; returns those segments. */
function truncatePartition(
  db: DatabaseSync,
  segment: { id: number; topic_id: number; partition: number },
  from: { base_offset: number; position: number },
): number[] {
  const { id, topic_id: topicId, partition } = segment;
  db.prepare('DELETE FROM batches WHERE topic_id = ? AND partition = ? AND last_offset >= ?').run(topicId, partition, from.base_offset);
  const later = (db.prepare('SELECT id FROM segments WHERE topic_id = ? AND partition = ? AND id > ?').all(topicId, partition, id) as Array<{ id: number }>).map(
    (s) => s.id,
  );
  db.prepare('DELETE FROM segments WHERE topic_id = ? AND partition = ? AND id > ?').run(topicId, partition, id);
  db.prepare('UPDATE segments SET size = ?, flushed = MIN(flushed, ?) WHERE id = ?').run(from.position, from.position, id);
  db.prepare(
    'UPDATE partitions SET end_offset = ?, start_offset = MIN(start_offset, ?), bytes = (SELECT COALESCE(SUM(bytes), 0) FROM batches WHERE topic_id = ? AND partition = ?) WHERE topic_id = ? AND partition = ?',
  ).run(from.base_offset, from.base_offset, topicId, partition, topicId, partition);
  return later;
}

/**
 * Deletes the rows of a partition's segments that no batch points into any more (those before the
 * first segment any of its batches is in; all but its current one when none is), in the caller's
 * write transaction; returns them, for their files to be removed once committed.
 */
export function dropEmptySegments(db: DatabaseSync, topicId: number, partition: number): number[] {
  const { first } = db.prepare('SELECT MIN(segment) AS first FROM batches WHERE topic_id = ? AND partition = ?').get(topicId, partition) as {
    first: number | null;
  };
  const { current } = db.prepare('SELECT MAX(id) AS current FROM segments WHERE topic_id = ? AND partition = ?').get(topicId, partition) as {
    current: number | null;
  };
  const keepFrom = first ?? current;
  if (keepFrom === null) return [];
  const ids = (db.prepare('SELECT id FROM segments WHERE topic_id = ? AND partition = ? AND id < ?').all(topicId, partition, keepFrom) as Array<{ id: number }>).map(
    (s) => s.id,
  );
  db.prepare('DELETE FROM segments WHERE topic_id = ? AND partition = ? AND id < ?').run(topicId, partition, keepFrom);
  return ids;
}

/** Deletes the rows of a topic's segments (in the caller's write transaction); returns them. */
export function dropTopicSegments(db: DatabaseSync, topicId: number): number[] {
  const ids = (db.prepare('SELECT id FROM segments WHERE topic_id = ?').all(topicId) as Array<{ id: number }>).map((s) => s.id);
  db.prepare('DELETE FROM segments WHERE topic_id = ?').run(topicId);
  return ids;
}

/**
 * Removes segment files that no row names: left by a process that stopped between a commit that
 * dropped segments and the removal of their files. Only ids below the highest committed one count
 * (a higher file may belong to a writer's transaction still open).
 */
export function removeOrphanSegments(db: DatabaseSync, dir: string): number {
  let names: string[];
  try {
    names = readdirSync(join(dir, SEGMENTS_DIR));
  } catch {
    return 0;
  }
  const last = (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'segments'").get() as { seq: number } | undefined)?.seq ?? 0;
  const known = new Set((db.prepare('SELECT id FROM segments').all() as Array<{ id: number }>).map((s) => s.id));
  const orphans: number[] = [];
  for (const name of names) {
    const match = /^(\d+)\.seg$/.exec(name);
    const id = match === null ? NaN : Number(match[1]);
    if (id <= last && !known.has(id)) orphans.push(id);
  }
  removeSegmentFiles(dir, orphans);
  return orphans.length;
}
