/**
 * What every client of one embedded log shares: the database, the topic catalog, the partition
 * log (reads), the writer thread (appends), the group coordinator, the clock, and the signal that
 * wakes waiting consumers.
 */
import { watch, type FSWatcher } from 'node:fs';
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

/**
 * Wakes consumers in this process as soon as something is appended: appends of this process at
 * once ({@link notify}), appends of other processes when their writer thread touches
 * {@link APPEND_SIGNAL_FILE} (a file-system watch on the log directory, where the platform has
 * one). Consumers also look at the database at their poll interval, so a missed or unsupported
 * watch only adds latency.
 */
export class AppendSignal {
  #waiters: Array<() => void> = [];
  #watcher: FSWatcher | null = null;
  #users = 0;
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** A log of this process opened the directory: watch it while at least one is open. */
  acquire(): void {
    if (this.#users++ > 0) return;
    try {
      const watcher = watch(this.#dir, { persistent: false }, (_event, file) => {
        if (file === APPEND_SIGNAL_FILE) this.notify();
      });
      // The directory went away or can't be watched any more: the poll interval remains.
      watcher.on('error', () => this.#unwatch());
      this.#watcher = watcher;
    } catch {
      this.#watcher = null;
    }
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
