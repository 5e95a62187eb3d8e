/**
 * The tasks of one running instance: created when the group assigns partitions, closed when they
 * are revoked. Rebalances happen inside poll (on Kafka, during any wait: the runtime drops polled
 * records whose task changed meanwhile); before revoked tasks are closed, `beforeRevoke` (set
 * by the runtime) waits for the outputs in flight and commits their offsets, so a revoked task
 * never leaves acknowledged work uncommitted nor unacknowledged outputs behind — and then takes
 * the revoked tasks out of the live set right away, so that no batch reaches them after that
 * commit (it would be committed later, under the group's next generation: a zombie).
 */
import type { RebalanceListener, TopicPartition } from '../../log/types.ts';
import type { Clock } from '../clock.ts';
import type { TaskStateContext } from '../state/task-stores.ts';
import type { RecordCollector } from '../task/collector.ts';
import { StreamTask, taskId } from '../task/task.ts';
import type { Topology } from '../topology/topology.ts';

/** Options of {@link TaskManager}. */
export interface TaskManagerOptions {
  readonly topology: Topology;
  readonly applicationId: string;
  readonly clock: Clock;
  readonly collector: RecordCollector;
  /** Where task stores restore from (changelogs, table topics) and the instance's global tables. */
  readonly state?: TaskStateContext;
}

/** Owns the tasks of the partitions assigned to this instance. */
export class TaskManager implements RebalanceListener {
  readonly #options: TaskManagerOptions;
  readonly #tasks = new Map<string, StreamTask>();
  /** Errors thrown by processors' `close` (they do not stop a revocation); the first 10 are kept. */
  readonly closeErrors: unknown[] = [];
  /** Tasks ever created and closed here (for metrics). */
  created = 0;
  closed = 0;
  /**
   * Called before tasks are revoked: the runtime finishes and commits the work in flight, then
   * calls `detach` (still exclusive of its batches), which takes the revoked tasks out of the live
   * set; they are closed after.
   */
  beforeRevoke: ((detach: () => void) => Promise<void>) | null = null;

  constructor(options: TaskManagerOptions) {
    this.#options = options;
  }

  /** The live tasks. */
  tasks(): StreamTask[] {
    return [...this.#tasks.values()];
  }

  /** The task of a partition, if assigned here. */
  get(tp: TopicPartition): StreamTask | undefined {
    return this.#tasks.get(taskId(tp.topic, tp.partition));
  }

  /** Creates the tasks of newly assigned partitions and restores their stores before any batch. */
  async onAssigned(partitions: readonly TopicPartition[]): Promise<void> {
    const { topology, applicationId, clock, collector, state } = this.#options;
    for (const tp of partitions) {
      const id = taskId(tp.topic, tp.partition);
      if (this.#tasks.has(id)) continue;
      const task = new StreamTask({ topology, applicationId, topic: tp.topic, partition: tp.partition, clock, collector, ...(state === undefined ? {} : { state }) });
      this.#tasks.set(id, task);
      this.created++;
      await task.restoreState();
    }
  }

  async onRevoked(partitions: readonly TopicPartition[]): Promise<void> {
    const detached: StreamTask[] = [];
    let done = false;
    const detach = (): void => {
      if (done) return;
      done = true;
      for (const tp of partitions) {
        const task = this.get(tp);
        if (task === undefined) continue;
        this.#tasks.delete(task.id);
        detached.push(task);
      }
    };
    if (partitions.length > 0 && this.beforeRevoke !== null) await this.beforeRevoke(detach);
    detach();
    for (const task of detached) await this.#closeTask(task);
  }

  /**
   * Replaces every live task by a fresh one for the same partition (exactly-once, after an aborted
   * transaction): the old graphs' in-memory state, which saw the aborted batch, is dropped, and the
   * new tasks start from what the log holds. `between` runs after the old tasks are closed and
   * before the new ones are made (the runtime drops the outputs collected so far there).
   */
  async rebuild(between: () => void): Promise<void> {
    const partitions = this.tasks().map((t) => ({ topic: t.topic, partition: t.partition }));
    await this.closeAll();
    between();
    await this.onAssigned(partitions);
  }

  /** Closes every task. */
  async closeAll(): Promise<void> {
    for (const id of [...this.#tasks.keys()]) await this.#close(id);
  }

  async #close(id: string): Promise<void> {
    const task = this.#tasks.get(id);
    if (task === undefined) return;
    this.#tasks.delete(id);
    await this.#closeTask(task);
  }

  async #closeTask(task: StreamTask): Promise<void> {
    this.closed++;
    for (const error of await task.close()) if (this.closeErrors.length < 10) this.closeErrors.push(error);
  }
}
