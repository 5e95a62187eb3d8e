/**
 * The writer thread of an embedded log: it owns a database connection and applies the append
 * requests of its process's producers (and its consumers' offset commits). Requests that queue up
 * while a commit is in flight are applied together in the next SQLite transaction (group commit:
 * one fsync for all of them), each inside a savepoint so that one failing request (say, a deleted
 * topic) doesn't undo the others. After a commit with appends it touches the append signal file
 * (context.ts) to wake other processes' consumers. Checkpoints are the checkpoint thread's job
 * (checkpoint-thread.ts), so they never delay an acknowledgement.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { SluiceError } from '../../errors.ts';
import type { AppendReply, AppendRequest } from './append-request.ts';
import { BatchWriter } from './batch-writer.ts';
import { APPEND_SIGNAL_FILE } from './context.ts';
import { isBusy, openDatabase } from './database.ts';

/** What the writer thread is started with. */
export interface WriterThreadData {
  readonly dir: string;
  readonly busyTimeoutMs: number;
}

const { dir, busyTimeoutMs } = workerData as WriterThreadData;
/** How long the thread sleeps between tries for the write lock another process holds. */
const LOCK_RETRY_MS = 0.1;
const db = openDatabase(dir, busyTimeoutMs);
// From here on no SQLite busy handler: it sleeps 1, 2, 5, 10… ms between tries, which turns
// another process's 1 ms commit into a 3–8 ms wait; beginWrite() tries every LOCK_RETRY_MS instead.
db.exec('PRAGMA busy_timeout = 0');
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const writer = new BatchWriter(db, Date.now);
const port = parentPort!;
const signalFile = join(dir, APPEND_SIGNAL_FILE);
const SIGNAL_BYTE = new Uint8Array(1);
let queue: AppendRequest[] = [];
let scheduled = false;

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
  // Wakes consumers of other processes (context.ts), now that the commit is visible; before the
  // replies, so that a log closed right after its last append has signalled it.
  if (replies.some((r, i) => 'bases' in r && requests[i]!.appends.length > 0)) touchSignal();
  for (const reply of replies) port.postMessage(reply);
}

/** Opened, written and closed each time: a terminated thread leaves no descriptor behind. */
function touchSignal(): void {
  try {
    writeFileSync(signalFile, SIGNAL_BYTE);
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
    db.exec(requests.some((r) => r.durable) ? 'PRAGMA synchronous = FULL' : 'PRAGMA synchronous = NORMAL');
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
