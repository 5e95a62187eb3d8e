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
 * transaction commits) are acknowledged only after a flush that started after their commit: an
 * fdatasync of the segment files this process wrote, then of the WAL (one at a time, on libuv's
 * thread pool, covering every commit before it: group fsync). With SQLite's own
 * `synchronous = FULL` the lock stayed held during the flush, so one slow flush (tens of ms here,
 * when a checkpoint's writes were queued on the disk) stalled every writer of every process. A
 * reader may see a commit a moment before it is flushed — as a Kafka consumer sees records that
 * are replicated but not yet on any disk. A consumer's offset commit is applied only after a
 * flush of every segment holding unflushed bytes (any process's), so that on disk it never gets
 * ahead of the records it covers. Before its first append the thread cuts back partitions whose
 * last batches a power loss damaged (segment-upkeep.ts).
 */
import { closeSync, fdatasync, fsyncSync, openSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import { SluiceError } from '../../errors.ts';
import type { AppendReply, AppendRequest } from './append-request.ts';
import { BatchWriter } from './batch-writer.ts';
import { CHECKPOINT_DEFAULTS } from './checkpoint-policy.ts';
import { isBusy, openDatabase } from './database.ts';
import { recoverSegments } from './segment-upkeep.ts';
import { removeSegmentFiles, SegmentAppender, SegmentReader } from './segments.ts';

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
  /** Size at which a partition starts a new segment file. */
  readonly segmentBytes: number;
  /**
   * One Int32: bytes this process wrote since the housekeeping thread last looked (the writer
   * thread adds, the housekeeping thread takes; see checkpoint-policy.ts).
   */
  readonly written: SharedArrayBuffer;
}

const { dir, busyTimeoutMs, signalFd, walFd, written, segmentBytes } = workerData as WriterThreadData;
const writtenBytes = new Int32Array(written);
/** How long the thread sleeps between tries for the write lock another process holds. */
const LOCK_RETRY_MS = 0.1;
const db = openDatabase(dir, busyTimeoutMs);
db.exec('PRAGMA synchronous = NORMAL');
// From here on no SQLite busy handler: it sleeps 1, 2, 5, 10… ms between tries, which turns
// another process's 1 ms commit into a 3–8 ms wait; beginWrite() tries every LOCK_RETRY_MS instead.
db.exec('PRAGMA busy_timeout = 0');
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const segments = new SegmentAppender(db, dir, segmentBytes);
const writer = new BatchWriter(db, Date.now, segments);
const syncWal = promisify(fdatasync);
const port = parentPort!;
const SIGNAL_BYTE = new Uint8Array(1);
let queue: AppendRequest[] = [];
let scheduled = false;
/** Whether the log directory was flushed since this thread started (so that the WAL file's entry survives a power loss). */
let directorySynced = false;
/** Committed replies waiting for a flush that starts after their commit. */
let unflushed: AppendReply[] = [];
let flushing = false;
/** Offset commits waiting for the next flush of the segments (see drain). */
let held: AppendRequest[] = [];
/** Offset commits a flush released, to be applied as they are. */
const released = new WeakSet<AppendRequest>();
/** Held offset commits whose flush is in progress. */
let releasing = 0;
recover();

port.on('message', (request: AppendRequest) => {
  queue.push(request);
  schedule();
});

function schedule(): void {
  if (!scheduled) {
    scheduled = true;
    setImmediate(drain);
  }
}

function drain(): void {
  scheduled = false;
  let requests = queue;
  queue = [];
  // A consumer's offset commit waits for a flush of the segments appended before it: on disk, an
  // offset commit never gets ahead of the records it covers (segments.ts). While some wait, later
  // ones wait too, so that none is applied before an earlier one.
  if (requests.some(mustWaitForSegments) && (held.length > 0 || releasing > 0 || segments.anyUnflushed())) {
    held.push(...requests.filter(mustWaitForSegments));
    requests = requests.filter((r) => !mustWaitForSegments(r));
  }
  if (requests.length > 0) apply(requests);
  if ((unflushed.length > 0 || held.length > 0) && !flushing) flush();
}

/** True for a consumer's offset commit not yet released by a segment flush. */
function mustWaitForSegments(request: AppendRequest): boolean {
  return (request.commits?.length ?? 0) > 0 && !released.has(request);
}

/** Applies requests in one transaction and answers those that need no flush. */
function apply(requests: readonly AppendRequest[]): void {
  const replies = applyAll(requests);
  Atomics.add(writtenBytes, 0, writer.takeDatabaseBytes() + requests.length * CHECKPOINT_DEFAULTS.requestBytes);
  // Wakes consumers of other processes (context.ts), now that the commit is visible; before the
  // replies, so that a log closed right after its last append has signalled it.
  if (replies.some((r, i) => 'bases' in r && requests[i]!.appends.length > 0)) touchSignal();
  for (const [i, reply] of replies.entries()) {
    if ('bases' in reply && requests[i]!.durable) unflushed.push(reply);
    else port.postMessage(reply);
  }
}

/**
 * Flushes the segments this process wrote (every process's, when offset commits wait for it), then
 * the WAL (when replies wait for it); then acknowledges every reply committed before the flush
 * began and releases the offset commits held before it.
 */
function flush(): void {
  flushing = true;
  const covered = unflushed;
  const waiting = held;
  unflushed = [];
  held = [];
  releasing = waiting.length;
  const done = (error: Error | null): void => {
    flushing = false;
    releasing = 0;
    for (const reply of covered) port.postMessage(error === null ? reply : { id: reply.id, error: describe(error) });
    if (error === null) {
      for (const request of waiting) released.add(request);
      queue.unshift(...waiting);
      if (waiting.length > 0) schedule();
    } else {
      for (const request of waiting) port.postMessage({ id: request.id, error: describe(error) });
    }
    if (unflushed.length > 0 || held.length > 0) flush();
  };
  (async () => {
    if (!directorySynced) syncDirectory();
    // Held offset commits need every process's segments on disk; acknowledgements need this
    // process's segments and the WAL.
    await segments.flush(waiting.length > 0);
    if (covered.length > 0) await syncWal(walFd);
  })().then(
    () => done(null),
    (error: unknown) => done(error as Error),
  );
}

/**
 * Before the first append: cuts back partitions whose last batches didn't reach their segment file
 * (a power loss; see segments.ts). Finds nothing after a clean stop or a process crash.
 */
function recover(): void {
  const reader = new SegmentReader(dir);
  try {
    beginWrite();
    const removed = recoverSegments(db, reader);
    db.exec('COMMIT');
    removeSegmentFiles(dir, removed);
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  } finally {
    reader.close();
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
    segments.recordFlushed();
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
