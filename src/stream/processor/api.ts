/**
 * The low-level Processor API: what `stream.process()` runs, and the contract every built-in
 * operator implements. A processor instance belongs to one task (one input partition); it sees that
 * task's records in order and may schedule punctuation on stream time or wall-clock time.
 * State stores attach here: `context.getStore(name)` hands out the task's stores that the node
 * declared (`process(supplier, { stores: [name] })`).
 */
import type { StreamRecord } from '../record.ts';
import type { KeyValueStore } from '../state/store.ts';

/** What drives a punctuation: the task's stream time (max event time seen) or the wall clock. */
export const PunctuationType = { streamTime: 'stream-time', wallClock: 'wall-clock' } as const;
/** `stream-time` or `wall-clock`. */
export type PunctuationType = (typeof PunctuationType)[keyof typeof PunctuationType];

/** A punctuation callback; `timestamp` is the stream time or wall-clock time that triggered it. */
export type Punctuator = (timestamp: number) => void | Promise<void>;

/** A scheduled punctuation; `cancel()` stops it. */
export interface Cancellable {
  cancel(): void;
}

/** A record passed to `forward`: origin and headers may be left out. */
export type ForwardedRecord<K, V> = Omit<StreamRecord<K, V>, 'origin' | 'headers'> & Partial<Pick<StreamRecord<K, V>, 'origin' | 'headers'>>;

/** Stream time of a task before it has seen any record. */
export const UNKNOWN_STREAM_TIME = -1;

/** Who a task is and what time it is there: shared by processors' contexts and task services. */
export interface TaskView {
  readonly applicationId: string;
  /** Id of the task: `<topic>-<partition>` of its input. */
  readonly taskId: string;
  /** The task's input topic (resolved name) and partition. */
  readonly topic: string;
  readonly partition: number;
  /** The task's stream time: the largest event time it has seen, or {@link UNKNOWN_STREAM_TIME}. */
  streamTime(): number;
  /** Wall-clock time from the runtime's injected clock. */
  wallClockTime(): number;
}

/** What a processor can see and do inside its task. */
export interface ProcessorContext<KOut, VOut> extends TaskView {
  /**
   * Sends a record to every downstream node (await the result: it applies backpressure). Headers
   * default to none and origin to the record being processed (in punctuation: the task's
   * partition with offset -1); pass `origin` explicitly from async code.
   */
  forward(record: ForwardedRecord<KOut, VOut>): void | Promise<void>;
  /**
   * Calls `punctuator` every `intervalMs` of stream time or wall-clock time. Stream-time
   * punctuation fires once when a record moves stream time past the next due time (skipped
   * intervals do not fire one by one), like Kafka Streams.
   */
  schedule(options: { readonly intervalMs: number; readonly type: PunctuationType; readonly punctuator: Punctuator }): Cancellable;
  /**
   * The task's store `name` (declared with `builder.addStore` and listed in this node's `stores`),
   * or a global table's store. Stores are restored before the first record, not yet in `init`.
   */
  getStore<SK, SV>(name: string): KeyValueStore<SK, SV>;
}

/** A record processor; one instance per task. */
export interface Processor<KIn, VIn, KOut, VOut> {
  /** Called once, before the first record, with the task's context. */
  init?(context: ProcessorContext<KOut, VOut>): void;
  /** Handles one record. A returned promise holds back the task's next record until it settles. */
  process(record: StreamRecord<KIn, VIn>): void | Promise<void>;
  /** Called at the end of every batch, before outputs are committed: emit anything held back. */
  flush?(): void | Promise<void>;
  /** Called when the task closes (partition revoked, runtime closed). */
  close?(): void | Promise<void>;
}

/** Makes a new processor; called once per task. */
export type ProcessorSupplier<KIn, VIn, KOut, VOut> = () => Processor<KIn, VIn, KOut, VOut>;

/**
 * A processor connected to a control stream (`stream.connect(control, supplier)`): it sees its
 * task's data records through `process` and every record of the control topic through `control`.
 * Ordering rule: before an instance processes a batch of data records it applies, to every task,
 * every control record up to the control topic's end offsets at that moment; so a control record
 * whose append was acknowledged before a data record was appended is applied before that data
 * record is processed, in every task. A task created later first gets the current control state
 * (the latest record per key, in the order they were read) before its first data record.
 */
export interface ConnectedProcessor<K, V, CK, CV, KO, VO> extends Processor<K, V, KO, VO> {
  /** Applies one control record (in control-topic order). A returned promise holds back the task's data records until it settles. */
  control(record: StreamRecord<CK, CV>): void | Promise<void>;
}

/** Makes a new connected processor; called once per task. */
export type ConnectedProcessorSupplier<K, V, CK, CV, KO, VO> = () => ConnectedProcessor<K, V, CK, CV, KO, VO>;
