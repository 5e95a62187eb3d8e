/**
 * The embedded backend's storage: one SQLite database (node:sqlite) in WAL mode in the log
 * directory, holding the index and every other table, with the record batches of `delete`-policy
 * topics in segment files beside it (segments.ts). Why: see docs/embedded-storage.md.
 *
 * Every append is one SQLite transaction that inserts the batch rows and moves the partitions' end
 * offsets, so a reader (in this or any other process) sees whole batches or nothing, and a crash at
 * any point leaves the last committed state. Several processes share the file through SQLite's own
 * locking; writers wait up to `busyTimeoutMs` for each other.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ErrorCode, SluiceError } from '../../errors.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS topics (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  partitions INTEGER NOT NULL,
  retention_ms INTEGER,
  retention_bytes INTEGER,
  cleanup_policy TEXT NOT NULL,
  segment_ms INTEGER,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS partitions (
  topic_id INTEGER NOT NULL,
  partition INTEGER NOT NULL,
  start_offset INTEGER NOT NULL,
  end_offset INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  cleaned_offset INTEGER NOT NULL,
  PRIMARY KEY (topic_id, partition)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (
  topic_id INTEGER NOT NULL,
  partition INTEGER NOT NULL,
  base_offset INTEGER NOT NULL,
  last_offset INTEGER NOT NULL,
  min_ts INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  data BLOB NOT NULL,
  appended_at REAL,
  segment INTEGER,
  position INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS batches_by_last_offset ON batches (topic_id, partition, last_offset);
CREATE TABLE IF NOT EXISTS segments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  topic_id INTEGER NOT NULL,
  partition INTEGER NOT NULL,
  size INTEGER NOT NULL,
  flushed INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS segments_by_partition ON segments (topic_id, partition, id);
CREATE TABLE IF NOT EXISTS group_offsets (
  group_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  committed_at INTEGER NOT NULL,
  PRIMARY KEY (group_id, topic, partition)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS groups (
  group_id TEXT PRIMARY KEY,
  generation INTEGER NOT NULL,
  state TEXT NOT NULL,
  target_generation INTEGER NOT NULL,
  rebalance_started_at INTEGER NOT NULL,
  assignment TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_members (
  group_id TEXT NOT NULL,
  member_id TEXT NOT NULL,
  topics TEXT NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  session_timeout_ms INTEGER NOT NULL,
  joined_generation INTEGER NOT NULL,
  PRIMARY KEY (group_id, member_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS producers (
  transactional_id TEXT PRIMARY KEY,
  epoch INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** The file name of the database inside the log directory. */
export const DATABASE_FILE = 'sluice-log.db';

/** Opens (creating if needed) the log database in `dir`. */
export function openDatabase(dir: string, busyTimeoutMs: number): DatabaseSync {
  try {
    mkdirSync(dir, { recursive: true });
    const db = new DatabaseSync(join(dir, DATABASE_FILE), { timeout: busyTimeoutMs });
    // auto_vacuum must be chosen before the first table exists; it lets retention and compaction
    // give freed pages back to the file system (PRAGMA incremental_vacuum).
    db.exec('PRAGMA auto_vacuum = INCREMENTAL');
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    // Checkpoints are the housekeeping thread's job; after one, a WAL that grew is cut back to 64 MiB.
    db.exec('PRAGMA wal_autocheckpoint = 0');
    db.exec('PRAGMA journal_size_limit = 67108864');
    withWriteTransaction(db, () => {
      db.exec(SCHEMA);
      addMissingColumns(db);
    });
    return db;
  } catch (error) {
    if (error instanceof SluiceError) throw error;
    throw new SluiceError(ErrorCode.LOG_BACKEND, `cannot open the embedded log in '${dir}': ${(error as Error).message}`, {
      cause: error,
      details: { dir },
    });
  }
}

/**
 * Brings a database made by an earlier version up to the current schema: `batches.appended_at`
 * (batches from before it have none), `batches.segment` and `position` (batches from before them
 * keep their bytes in `data`).
 */
function addMissingColumns(db: DatabaseSync): void {
  const columns = new Set((db.prepare('SELECT name FROM pragma_table_info(?)').all('batches') as { name: string }[]).map((c) => c.name));
  if (!columns.has('appended_at')) db.exec('ALTER TABLE batches ADD COLUMN appended_at REAL');
  if (!columns.has('segment')) db.exec('ALTER TABLE batches ADD COLUMN segment INTEGER');
  if (!columns.has('position')) db.exec('ALTER TABLE batches ADD COLUMN position INTEGER');
}

/**
 * Runs `fn` inside BEGIN IMMEDIATE … COMMIT (rolled back if it throws). Immediate transactions take
 * the write lock up front, so two processes never deadlock upgrading a read lock.
 */
export function withWriteTransaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/** SQLite's result code for a locked database (SQLITE_BUSY). */
const SQLITE_BUSY = 5;

/** True for SQLite's "database is locked" error. */
export function isBusy(error: unknown): boolean {
  return (error as { errcode?: unknown } | null)?.errcode === SQLITE_BUSY;
}
