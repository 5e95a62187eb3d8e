/**
 * What every client of one embedded log shares: the database, the topic catalog, the partition
 * log (reads), the writer thread (appends), the group coordinator, the clock, and the signal that
 * wakes waiting consumers.
 */
import { closeSync, constants, openSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import type { GroupCoordinator } from './group-coordinator.ts';
import type { PartitionLog } from './partition-log.ts';
import type { TopicCatalog } from './topics.ts';
import type { Writer } from './writer.ts';

/** Shared state of one open embedded log. */
export interface EmbeddedContext {
  readonly dir: string;
  readonly db: DatabaseSync;
  readonly topics: TopicCatalog;
  readonly log: PartitionLog;
  readonly groups: GroupCoordinator;
  /** Applies appends on the writer thread. */
  readonly writer: Writer;
  /** Wall-clock time in ms (injectable for tests). */
  readonly clock: () => number;
  /** Wakes consumers of this process waiting for records; called after every append. */
  readonly appended: AppendSignal;
}

/**
 * The file every writer thread touches after each commit of appends, so that consumers in other
 * processes can watch for it (the database files themselves change before a commit is visible).
 */
export const APPEND_SIGNAL_FILE = 'sluice-log.appended';

/** How often a waiting poll looks for other processes' appends while the signal file is watched… */
const WATCHED_POLL_MS = 50;
/** …and where it can't be. */
const UNWATCHED_POLL_MS = 5;
/** How often a lost watch of the signal file is tried again. */
const REWATCH_MS = 1_000;

/**
 * Wakes consumers in this process as soon as something is appended: appends of this process at
 * once ({@link notify}), appends of other processes when their writer thread touches
 * {@link APPEND_SIGNAL_FILE} (a file-system watch on that file, where the platform has one).
 * Consumers also look at the database at their poll interval ({@link AppendSignal.pollIntervalMs}), so a
 * missed or unsupported watch only adds latency. The file is watched, not the directory: the
 * directory also reports every write of the database's WAL by any process (several per commit),
 * and each woke this process's event loop for nothing (at 1,000 records/s in 5 ms rounds, a
 * serving process woke ~950 times a second; ~500 with the file watched and the slower poll).
 */
export class AppendSignal {
  #waiters: Array<() => void> = [];
  #watcher: FSWatcher | null = null;
  #lastWatchTry = Number.NEGATIVE_INFINITY;
  #users = 0;
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** A log of this process opened the directory: watch it while at least one is open. */
  acquire(): void {
    if (this.#users++ > 0) return;
    this.#watch(true);
  }

  /**
   * Watches the signal file (`create`: creating it, never truncating it); where it can't, the
   * short poll interval remains.
   */
  #watch(create: boolean): void {
    this.#lastWatchTry = performance.now();
    try {
      const file = join(this.#dir, APPEND_SIGNAL_FILE);
      if (create) closeSync(openSync(file, constants.O_WRONLY | constants.O_CREAT));
      const watcher = watch(file, { persistent: false }, (event) => {
        // Removed or replaced: until it is watched again (pollIntervalMs), waiters poll often.
        if (event === 'rename') this.#unwatch();
        this.notify();
      });
      watcher.on('error', () => this.#unwatch());
      this.#watcher = watcher;
    } catch {
      this.#watcher = null;
    }
  }

  /**
   * How often a waiting consumer should look at the database for other processes' appends:
   * rarely while the watch wakes it, often where there is none. A watch lost to the file's removal
   * is tried again (without making the file: a writer thread does when it starts) at most every
   * REWATCH_MS.
   */
  pollIntervalMs(): number {
    if (this.#watcher === null && this.#users > 0 && performance.now() - this.#lastWatchTry >= REWATCH_MS) this.#watch(false);
    return this.#watcher === null ? UNWATCHED_POLL_MS : WATCHED_POLL_MS;
  }

  /** A log of this process closed: stop watching when it was the last one. */
  release(): void {
    if (--this.#users === 0) this.#unwatch();
  }

  #unwatch(): void {
    this.#watcher?.close();
    this.#watcher = null;
  }

  /** Resolves at the next append (true), or after `timeoutMs` (false). */
  wait(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      const waiters = this.#waiters;
      function woken(): void {
        done(true);
      }
      function done(appended: boolean): void {
        clearTimeout(timer);
        const i = waiters.indexOf(woken);
        if (i >= 0) waiters.splice(i, 1);
        resolve(appended);
      }
      waiters.push(woken);
    });
  }

  /** Wakes every waiter. */
  notify(): void {
    if (this.#waiters.length === 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
