/**
 * The checkpoint thread of an embedded log: it copies the WAL into the database file (SQLite's
 * passive checkpoint, which never blocks writers or readers) whenever the WAL has grown, so that
 * neither the callers' event loop nor the writer thread ever waits for a checkpoint, and the WAL
 * stays small enough for readers to search quickly.
 */
import { workerData } from 'node:worker_threads';
import { openDatabase } from './database.ts';
import type { WriterThreadData } from './writer-thread.ts';

/** How often to look at the WAL. */
const INTERVAL_MS = 25;

const { dir, busyTimeoutMs } = workerData as WriterThreadData;
const db = openDatabase(dir, busyTimeoutMs);
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');

setInterval(() => {
  try {
    checkpoint.get();
  } catch {
    // A checkpoint that can't run now (the database is busy) runs at the next tick.
  }
}, INTERVAL_MS);
