/**
 * The housekeeping thread of an embedded log, beside the writer thread, so that the callers'
 * event loop never does this work nor waits for the write lock because of it:
 * - it copies the WAL into the database file (SQLite's passive checkpoint, which never blocks
 *   writers or readers), so the WAL stays small enough for readers to search quickly: looking
 *   every 25 ms, when its own process has written enough since its last checkpoint, or a second
 *   after it wrote anything (checkpoint-policy.ts: the processes that write the most do it);
 * - every `maintenanceIntervalMs` it applies retention and compaction (maintenance.ts), in short
 *   write transactions.
 * It runs at the process's priority: at a lower one (tried: nice +10) its write transactions
 * stretched on a busy core while every other writer waited for the lock.
 */
import { workerData } from 'node:worker_threads';
import { CHECKPOINT_DEFAULTS, CheckpointPolicy } from './checkpoint-policy.ts';
import { openDatabase } from './database.ts';
import { Maintenance } from './maintenance.ts';
import { TopicCatalog } from './topics.ts';
import type { WriterThreadData } from './writer-thread.ts';

const { dir, busyTimeoutMs, maintenanceIntervalMs, written } = workerData as WriterThreadData;
const writtenBytes = new Int32Array(written);
const policy = new CheckpointPolicy(performance.now());
const db = openDatabase(dir, busyTimeoutMs);
// Like the callers' connection: maintenance commits survive a process crash and become durable
// with the next fsync of the shared WAL.
db.exec('PRAGMA synchronous = NORMAL');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const maintenance = new Maintenance(db, dir, new TopicCatalog(db, dir), Date.now);

setInterval(() => {
  const now = performance.now();
  if (!policy.due(Atomics.exchange(writtenBytes, 0, 0), now)) return;
  try {
    checkpoint.get();
    policy.done(now);
  } catch {
    // A checkpoint that can't run now (the database is busy) runs at the next tick.
  }
}, CHECKPOINT_DEFAULTS.intervalMs);

setInterval(() => {
  try {
    maintenance.run();
  } catch {
    // Another process holding the write lock for long (or a topic deleted meanwhile) only delays
    // maintenance to the next pass.
  }
}, maintenanceIntervalMs);
