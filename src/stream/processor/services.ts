/**
 * What a task offers the processors it runs: identity, time, output and punctuation. The task
 * (task/task.ts) implements it for the runtime and for the test driver alike.
 */
import type { ProducerRecord } from '../../log/types.ts';
import type { RecordOrigin } from '../record.ts';
import type { KeyValueStore } from '../state/store.ts';
import type { Cancellable, Punctuator, PunctuationType, TaskView } from './api.ts';

/** Services of one task, shared by its processors. */
export interface TaskServices extends TaskView {
  /** Hands an encoded output record to the task's collector; `origin` is the input it derives from. */
  send(record: ProducerRecord, origin: RecordOrigin): void;
  /** Counts a record handed to a forEach sink. */
  countOutput(): void;
  /** Counts a record that arrived after its window closed. */
  countLateRecord(): void;
  /** Registers a punctuation of node `node`. */
  schedule(node: string, type: PunctuationType, intervalMs: number, punctuator: Punctuator): Cancellable;
  /** The store `name` as node `node` sees it (the node must have declared it). */
  store(node: string, name: string): KeyValueStore<unknown, unknown>;
}
