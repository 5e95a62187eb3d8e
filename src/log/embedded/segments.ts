/**
 * Segment files: where the batches of `delete`-policy topics keep their bytes (compacted topics,
 * whose batches compaction rewrites in place, and transactions keep theirs in the database). A
 * segment is one file per partition, `segments/<id>.seg` in the log directory, written only at
 * its end; its row in
 * the `segments` table says how far it is written (`size`) and how far it is known to be on disk
 * (`flushed`). A batch row points into a segment (`segment`, `position`, `bytes`).
 *
 * The commit protocol stays SQLite's: inside the write transaction the writer thread writes a
 * batch's bytes at the segment's recorded end, then inserts the batch row and moves the end. A
 * transaction that rolls back (or a process killed before its commit) leaves bytes past the
 * recorded end, which the next append overwrites; readers never see them, since they only follow
 * committed rows. Each byte is written once (the WAL used to hold it, then the checkpoint copied
 * it into the database file), and a read is one `pread` instead of a copy out of SQLite's pages.
 *
 * Durability: an acknowledgement that needs the disk (`acks: 'all'`, offset and transaction
 * commits) waits for an fdatasync of every segment its process wrote since the last flush, then
 * of the WAL; the flushed sizes are recorded in the next write transaction. A consumer's offset
 * commit is applied only after a flush of every segment holding committed bytes not yet flushed,
 * whichever process wrote them (writer-thread.ts), so no committed offset outlives a power loss
 * that took records before it; transactions keep their batches in the database, so a
 * transaction's records and offsets stay atomic on disk too. After a power loss a committed batch
 * may point past what reached its file (a checkpoint flushes the WAL whenever it runs): the first
 * writer thread to start checks (CRC) every batch beyond its segment's flushed size and cuts the
 * partition back before the first damaged one (segment-upkeep.ts).
 */
import { closeSync, constants, fdatasync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';

/** The folder of the segment files inside the log directory. */
export const SEGMENTS_DIR = 'segments';

/** Segment settings (the embedded log's defaults). */
export const SEGMENT_DEFAULTS = {
  /** A partition starts a new segment once its current one would grow past this. */
  maxBytes: 64 * 1024 * 1024,
  /** …or once it is this old, unless the topic sets `segmentMs` (or a shorter retention). */
  maxAgeMs: 7 * 24 * 3_600_000,
} as const;

/** The file of segment `id` in log directory `dir`. */
export function segmentPath(dir: string, id: number): string {
  return join(dir, SEGMENTS_DIR, `${id}.seg`);
}

/** Removes segment files (after the rows that pointed at them are gone); a missing file is fine. */
export function removeSegmentFiles(dir: string, ids: readonly number[]): void {
  for (const id of ids) rmSync(segmentPath(dir, id), { force: true });
}

/** How old a topic's segment may grow before the partition starts a new one. */
export function segmentMaxAge(config: { readonly segmentMs: number | null; readonly retentionMs: number | null }): number {
  return config.segmentMs ?? Math.min(config.retentionMs ?? SEGMENT_DEFAULTS.maxAgeMs, SEGMENT_DEFAULTS.maxAgeMs);
}

/** Where a batch's bytes went. */
export interface SegmentLocation {
  readonly segment: number;
  readonly position: number;
}

/**
 * The writer thread's side: appends batch bytes to partitions' current segments inside the
 * caller's write transaction, and flushes segments: those its process wrote (for a durable
 * acknowledgement), or every one that holds committed bytes not yet known to be on disk, any
 * process's (before an offset commit, which may cover records another process appended).
 */
export class SegmentAppender {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #current: StatementSync;
  readonly #create: StatementSync;
  readonly #grow: StatementSync;
  readonly #unflushed: StatementSync;
  readonly #sizeOf: StatementSync;
  readonly #markFlushed: StatementSync;
  /** Segments this thread wrote to since the last flush began. */
  #written = new Set<number>();
  /** A segment file was created since the last flush (the folder needs flushing too). */
  #created = false;
  /** Flushed sizes not yet recorded in the database. */
  #flushed = new Map<number, number>();

  constructor(db: DatabaseSync, dir: string, maxBytes: number) {
    this.#dir = dir;
    this.#maxBytes = maxBytes;
    mkdirSync(join(dir, SEGMENTS_DIR), { recursive: true });
    this.#current = db.prepare('SELECT id, size, created_at FROM segments WHERE topic_id = ? AND partition = ? ORDER BY id DESC LIMIT 1');
    this.#create = db.prepare('INSERT INTO segments (topic_id, partition, size, flushed, created_at) VALUES (?, ?, 0, 0, ?)');
    this.#grow = db.prepare('UPDATE segments SET size = ? WHERE id = ?');
    this.#unflushed = db.prepare('SELECT id, size FROM segments WHERE size > flushed');
    this.#sizeOf = db.prepare('SELECT id, size FROM segments WHERE id = ?');
    this.#markFlushed = db.prepare('UPDATE segments SET flushed = MAX(flushed, ?) WHERE id = ?');
  }

  /** Writes `blob` at the end of the partition's current segment (starting a new one when due). */
  append(topicId: number, partition: number, blob: Uint8Array, maxAgeMs: number, now: number): SegmentLocation {
    let segment = this.#current.get(topicId, partition) as { id: number; size: number; created_at: number } | undefined;
    if (segment === undefined || (segment.size > 0 && (segment.size + blob.byteLength > this.#maxBytes || now - segment.created_at >= maxAgeMs))) {
      segment = { id: Number(this.#create.run(topicId, partition, now).lastInsertRowid), size: 0, created_at: now };
      this.#created = true;
    }
    writeAt(segmentPath(this.#dir, segment.id), blob, segment.size);
    this.#grow.run(segment.size + blob.byteLength, segment.id);
    this.#written.add(segment.id);
    return { segment: segment.id, position: segment.size };
  }

  /** True when some segment holds committed bytes beyond what is known to be flushed. */
  anyUnflushed(): boolean {
    return this.#due(true).length > 0;
  }

  /**
   * Flushes the segments this thread wrote since the last flush began — or, with `everyProcess`,
   * every segment that holds committed bytes not known to be on disk — and the segments folder
   * when this thread created a segment: what was committed before the call is on disk once it
   * resolves. One fdatasync per file on libuv's thread pool.
   */
  async flush(everyProcess: boolean): Promise<void> {
    const due = this.#due(everyProcess);
    const created = this.#created;
    this.#written = new Set();
    this.#created = false;
    await Promise.all(due.map((s) => datasync(segmentPath(this.#dir, s.id))));
    if (created) await datasync(join(this.#dir, SEGMENTS_DIR));
    for (const s of due) this.#flushed.set(s.id, Math.max(s.size, this.#flushed.get(s.id) ?? 0));
  }

  /** Records the flushed sizes learnt since the last call (in the caller's write transaction). */
  recordFlushed(): void {
    for (const [id, size] of this.#flushed) this.#markFlushed.run(size, id);
    this.#flushed = new Map();
  }

  /** Committed sizes of the segments a flush must cover (those beyond what is known to be flushed). */
  #due(everyProcess: boolean): Array<{ id: number; size: number }> {
    const rows = everyProcess
      ? (this.#unflushed.all() as unknown as Array<{ id: number; size: number }>)
      : [...this.#written].flatMap((id) => (this.#sizeOf.get(id) as { id: number; size: number } | undefined) ?? []);
    return rows.filter((s) => s.size > (this.#flushed.get(s.id) ?? 0));
  }
}

/** Writes all of `blob` at `position` of the file at `path` (created if needed). */
function writeAt(path: string, blob: Uint8Array, position: number): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT, 0o644);
  try {
    let done = 0;
    while (done < blob.byteLength) done += writeSync(fd, blob, done, blob.byteLength - done, position + done);
  } finally {
    closeSync(fd);
  }
}

/** fdatasync of a file or folder (one job on libuv's thread pool); one removed meanwhile (retention, topic deletion) needs none. */
function datasync(path: string): Promise<void> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Promise.resolve();
    return Promise.reject(error as Error);
  }
  return new Promise((resolve, reject) => {
    fdatasync(fd, (error) => {
      closeSync(fd);
      if (error === null) resolve();
      else reject(error);
    });
  });
}

/**
 * Reads batch bytes out of segment files for one process, keeping the file of the segment each
 * partition read last open (a reader moves through a partition's segments in order; older files
 * are closed as it moves on, and a partition's file when its readers stop ({@link release}), so a
 * segment that retention removed doesn't stay on disk).
 */
export class SegmentReader {
  readonly #dir: string;
  readonly #open = new Map<string, { id: number; fd: number }>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The `length` bytes at `position` of segment `id` of a partition; null when the segment is gone (retention). */
  read(topicId: number, partition: number, id: number, position: number, length: number): Uint8Array | null {
    const fd = this.#fd(`${topicId}:${partition}`, id);
    if (fd === null) return null;
    const bytes = Buffer.allocUnsafeSlow(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, bytes, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    // A short read can only be a damaged or truncated file: the CRC check reports it.
    return done === length ? bytes : bytes.subarray(0, done);
  }

  #fd(partitionKey: string, id: number): number | null {
    const held = this.#open.get(partitionKey);
    if (held?.id === id) return held.fd;
    let fd: number;
    try {
      fd = openSync(segmentPath(this.#dir, id), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    if (held !== undefined) closeSync(held.fd);
    this.#open.set(partitionKey, { id, fd });
    return fd;
  }

  /** Closes the file held for a partition, if any (a reader that stops reading it). */
  release(topicId: number, partition: number): void {
    const partitionKey = `${topicId}:${partition}`;
    const held = this.#open.get(partitionKey);
    if (held === undefined) return;
    closeSync(held.fd);
    this.#open.delete(partitionKey);
  }

  /** Closes every file it holds. */
  close(): void {
    for (const { fd } of this.#open.values()) closeSync(fd);
    this.#open.clear();
  }
}
