/**
 * A node of a task's processor graph: one processor instance, its children, and the context it
 * sees. Every error a processor throws (or rejects with) leaves the node as a processing error
 * naming the node and the input record (failure.ts), which the task's error policy then handles.
 */
import { asProcessingError, NO_OFFSET } from '../failure.ts';
import { NO_HEADERS, type RecordOrigin } from '../record.ts';
import type { KeyValueStore } from '../state/store.ts';
import type { AnyRecord } from '../topology/nodes.ts';
import type { Cancellable, ConnectedProcessor, ForwardedRecord, Processor, ProcessorContext, PunctuationType, Punctuator } from './api.ts';
import { eachInOrder, type MaybePromise } from './maybe-async.ts';
import type { TaskServices } from './services.ts';

/** The context a processor sees; internal operators also use `forwardTo`. */
export interface NodeContext extends ProcessorContext<unknown, unknown> {
  /** Sends a record to the child node called `child` only. */
  forwardTo(child: string, record: AnyRecord): MaybePromise;
  /** Counts a late record in the task's metrics (windowed aggregations). */
  countLateRecord(): void;
}

/** One processor in a task, wired to its children. */
export class ProcessorNode implements NodeContext {
  readonly name: string;
  readonly children: ProcessorNode[] = [];
  readonly #services: TaskServices;
  #processor: Processor<unknown, unknown, unknown, unknown> | undefined;
  /** Origin of the record being processed (for records forwarded by punctuators: none). */
  #current: RecordOrigin | undefined;

  constructor(name: string, services: TaskServices) {
    this.name = name;
    this.#services = services;
  }

  get applicationId(): string {
    return this.#services.applicationId;
  }
  get taskId(): string {
    return this.#services.taskId;
  }
  get topic(): string {
    return this.#services.topic;
  }
  get partition(): number {
    return this.#services.partition;
  }

  /** Sets the processor and calls its `init` (the graph does this once children are wired). */
  init(processor: Processor<unknown, unknown, unknown, unknown>): void {
    this.#processor = processor;
    try {
      processor.init?.(this);
    } catch (error) {
      throw asProcessingError(this.name, this.#punctuationOrigin(), error);
    }
  }

  /** Runs the processor on `record`; failures become processing errors of `record.origin`. */
  process(record: AnyRecord): MaybePromise {
    return this.#onRecord(record, false);
  }

  /**
   * Runs a connected processor's `control` on a control record (records forwarded meanwhile
   * derive from it); failures become processing errors of that control record.
   */
  control(record: AnyRecord): MaybePromise {
    return this.#onRecord(record, true);
  }

  #onRecord(record: AnyRecord, control: boolean): MaybePromise {
    const previous = this.#current;
    this.#current = record.origin;
    try {
      const p = this.#processor!;
      const r = control ? (p as ConnectedProcessor<unknown, unknown, unknown, unknown, unknown, unknown>).control(record) : p.process(record);
      if (r !== undefined) {
        return r.then(
          () => undefined,
          (error: unknown) => {
            throw asProcessingError(this.name, record.origin, error);
          },
        );
      }
    } catch (error) {
      throw asProcessingError(this.name, record.origin, error);
    } finally {
      this.#current = previous;
    }
    return undefined;
  }

  /** Calls the processor's `flush` (end of a batch). */
  flush(): MaybePromise {
    return this.#guard(() => this.#processor!.flush?.());
  }

  /** Calls the processor's `close`. */
  close(): MaybePromise {
    return this.#guard(() => this.#processor!.close?.());
  }

  streamTime(): number {
    return this.#services.streamTime();
  }

  wallClockTime(): number {
    return this.#services.wallClockTime();
  }

  forward(record: ForwardedRecord<unknown, unknown>): MaybePromise {
    const full: AnyRecord =
      record.origin !== undefined && record.headers !== undefined
        ? (record as AnyRecord)
        : { ...record, headers: record.headers ?? NO_HEADERS, origin: record.origin ?? this.#current ?? this.#punctuationOrigin() };
    const children = this.children;
    if (children.length === 1) return children[0]!.process(full);
    return eachInOrder(children, (c) => c.process(full));
  }

  forwardTo(child: string, record: AnyRecord): MaybePromise {
    for (const c of this.children) if (c.name === child) return c.process(record);
    return undefined;
  }

  countLateRecord(): void {
    this.#services.countLateRecord();
  }

  schedule(options: { readonly intervalMs: number; readonly type: PunctuationType; readonly punctuator: Punctuator }): Cancellable {
    const { punctuator } = options;
    return this.#services.schedule(this.name, options.type, options.intervalMs, (timestamp) => this.#guard(() => punctuator(timestamp)));
  }

  getStore<SK, SV>(name: string): KeyValueStore<SK, SV> {
    return this.#services.store(this.name, name) as KeyValueStore<SK, SV>;
  }

  #punctuationOrigin(): RecordOrigin {
    return { topic: this.#services.topic, partition: this.#services.partition, offset: NO_OFFSET };
  }

  /** Runs `fn` outside record processing; failures are processing errors with no input record. */
  #guard(fn: () => MaybePromise): MaybePromise {
    const origin = this.#punctuationOrigin();
    try {
      const r = fn();
      if (r !== undefined) {
        return r.then(undefined, (error: unknown) => {
          throw asProcessingError(this.name, origin, error);
        });
      }
    } catch (error) {
      throw asProcessingError(this.name, origin, error);
    }
    return undefined;
  }
}
