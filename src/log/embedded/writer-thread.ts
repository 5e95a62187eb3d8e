/**
 * The writer thread of an embedded log: it owns a database connection and applies the append
 * requests of its process's producers (and its consumers' offset commits). Requests that queue up
 * while a commit is in flight are applied together in the next SQLite transaction (group commit),
 * each inside a savepoint so that one failing request (say, a deleted topic) doesn't undo the
 * others. After a commit with appends it touches the append signal file (context.ts) to wake other
 * processes' consumers. Checkpoints are the housekeeping thread's job (housekeeping-thread.ts), so
 * they never delay an acknowledgement.
 *
 * Durability without holding the write lock across the disk flush: the connection commits with
 * `synchronous = NORMAL` (the commit is written to the WAL, not flushed), which releases SQLite's
 * write lock at once; requests that asked for durability (`acks: 'all'`, offset commits,
 * transaction commits) are acknowledged only after an fdatasync of the WAL file that started after
 * their commit (one at a time, on libuv's thread pool, covering every commit before it: group
 * fsync). With SQLite's own `synchronous = FULL` the lock stayed held during the flush, so one
 * slow flush (tens of ms here, when a checkpoint's writes were queued on the disk) stalled every
 * writer of every process. A reader may see a commit a moment before it is flushed — as a Kafka
 * consumer sees records that are replicated but not yet on any disk; a power loss in between loses
 * the commit and everything after it in the WAL, never an earlier one.
 */
import { closeSync, fdatasync, fsyncSync, openSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { SluiceError } from '../../errors.ts';
import type { AppendReply, AppendRequest } from './append-request.ts';
import { BatchWriter } from './batch-writer.ts';
import { CHECKPOINT_DEFAULTS } from './checkpoint-policy.ts';
import { isBusy, openDatabase } from './database.ts';

/** What the writer thread is started with. */
export interface WriterThreadData {
  readonly dir: string;
  readonly busyTimeoutMs: number;
  /** The append signal file, open for writing (owned and closed by the caller's side); null: no signal. */
  readonly signalFd: number | null;
  /** The database's WAL file, open for flushing (owned and closed by the caller's side). */
  readonly walFd: number;
  /** How often the housekeeping thread runs retention and compaction. */
  readonly maintenanceIntervalMs: number;
  /**
   * One Int32: bytes this process wrote since the housekeeping thread last looked (the writer
   * thread adds, the housekeeping thread takes; see checkpoint-policy.ts).
   */
  readonly written: SharedArrayBuffer;
}

const { dir, busyTimeoutMs, signalFd, walFd, written } = workerData as WriterThreadData;
const writtenBytes = new Int32Array(written);
/** How long the thread sleeps between tries for the write lock another process holds. */
const LOCK_RETRY_MS = 0.1;
const db = openDatabase(dir, busyTimeoutMs);
db.exec('PRAGMA synchronous = NORMAL');
// From here on no SQLite busy handler: it sleeps 1, 2, 5, 10… ms between tries, which turns
// another process's 1 ms commit into a 3–8 ms wait; beginWrite() tries every LOCK_RETRY_MS instead.
db.exec('PRAGMA busy_timeout = 0');
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const writer = new BatchWriter(db, Date.now);
const port = parentPort!;
const SIGNAL_BYTE = new Uint8Array(1);
let queue: AppendRequest[] = [];
let scheduled = false;
/** Whether the log directory was flushed since this thread started (so that the WAL file's entry survives a power loss). */
let directorySynced = false;
/** Committed replies waiting for a flush that starts after their commit. */
let unflushed: AppendReply[] = [];
let flushing = false;

port.on('message', (request: AppendRequest) => {
  queue.push(request);
  if (!scheduled) {
    scheduled = true;
    setImmediate(drain);
  }
});

function drain(): void {
  scheduled = false;
  const requests = queue;
  queue = [];
  const replies = applyAll(requests);
  Atomics.add(writtenBytes, 0, bytesOf(requests));
  // Wakes consumers of other processes (context.ts), now that the commit is visible; before the
  // replies, so that a log closed right after its last append has signalled it.
  if (replies.some((r, i) => 'bases' in r && requests[i]!.appends.length > 0)) touchSignal();
  for (const [i, reply] of replies.entries()) {
    if ('bases' in reply && requests[i]!.durable) unflushed.push(reply);
    else port.postMessage(reply);
  }
  if (unflushed.length > 0 && !flushing) flush();
}

/** What `requests` wrote, roughly: their batches, and a page per request (checkpoint-policy.ts). */
function bytesOf(requests: readonly AppendRequest[]): number {
  let bytes = 0;
  for (const r of requests) {
    bytes += CHECKPOINT_DEFAULTS.requestBytes;
    for (const a of r.appends) for (const b of a.batches) bytes += b.blob.byteLength;
  }
  return bytes;
}

/** Flushes the WAL, then acknowledges every reply committed before the flush began. */
function flush(): void {
  flushing = true;
  const covered = unflushed;
  unflushed = [];
  const done = (error: Error | null): void => {
    flushing = false;
    for (const reply of covered) port.postMessage(error === null ? reply : { id: reply.id, error: describe(error) });
    if (unflushed.length > 0) flush();
  };
  try {
    if (!directorySynced) syncDirectory();
    fdatasync(walFd, done);
  } catch (error) {
    done(error as Error);
  }
}

function syncDirectory(): void {
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
  directorySynced = true;
}

/**
 * One byte rewritten in place: a single modify event for the watchers, and no open or truncation
 * (which cost ~0.2 ms a commit while the file system's journal was busy).
 */
function touchSignal(): void {
  if (signalFd === null) return;
  try {
    writeSync(signalFd, SIGNAL_BYTE, 0, 1, 0);
  } catch {
    // Without the signal, other processes' consumers notice the append at their poll interval.
  }
}

/** BEGIN IMMEDIATE, trying again every LOCK_RETRY_MS while another connection writes, up to the busy timeout. */
function beginWrite(): void {
  const deadline = performance.now() + busyTimeoutMs;
  for (;;) {
    try {
      db.exec('BEGIN IMMEDIATE');
      return;
    } catch (error) {
      if (!isBusy(error) || performance.now() >= deadline) throw error;
      Atomics.wait(sleeper, 0, 0, LOCK_RETRY_MS);
    }
  }
}

function applyAll(requests: readonly AppendRequest[]): AppendReply[] {
  const replies: AppendReply[] = [];
  try {
    beginWrite();
    for (const request of requests) {
      db.exec('SAVEPOINT request');
      try {
        replies.push({ id: request.id, bases: writer.apply(request) });
      } catch (error) {
        db.exec('ROLLBACK TO request');
        replies.push({ id: request.id, error: describe(error) });
      }
      db.exec('RELEASE request');
    }
    db.exec('COMMIT');
    return replies;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    return requests.map((r) => ({ id: r.id, error: describe(error) }));
  }
}

function describe(error: unknown): Extract<AppendReply, { error: unknown }>['error'] {
  if (error instanceof SluiceError) {
    return { code: error.code, message: error.message, retriable: error.retriable, details: { ...error.details } };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'SLUICE_LOG_BACKEND', message: `embedded log write failed: ${message}`, retriable: /busy|locked/i.test(message), details: {} };
}
