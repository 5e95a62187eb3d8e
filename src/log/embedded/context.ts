/**
 * What every client of one embedded log shares: the database, the topic catalog, the partition
 * log (reads), the writer thread (appends), the group coordinator, the clock, and the signal that
 * wakes waiting consumers.
 */
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
 * Wakes consumers in this process as soon as something is appended. Appends made by other
 * processes are noticed through the database (`PRAGMA data_version`) at the poll interval.
 */
export class AppendSignal {
  #waiters: Array<() => void> = [];

  /** Resolves at the next append, or after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const waiters = this.#waiters;
      function done(): void {
        clearTimeout(timer);
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        resolve();
      }
      waiters.push(done);
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
