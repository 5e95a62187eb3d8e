/**
 * The control streams of one running instance (or test driver). Every control topic is read in
 * full — all partitions, from the earliest offset, with the state readers that global tables use
 * (a manually assigned read_committed consumer, never the group; offsets never committed) — and
 * each record is decoded once and handed, in the order it was read (offset order per partition),
 * first to the topic's `perInstance` listener (made once per instance; it gets every record,
 * whether or not the instance has tasks, and what it returns is awaited), then to every attached
 * task.
 *
 * When: `restore()` reads every control topic to its end before the instance takes data;
 * `advance('end')` runs after each poll that returned data and before that data is processed, up
 * to the end offsets read at that moment (the ordering rule: a control record acknowledged before a
 * data record was appended is applied first); `advance('available')` applies what has arrived when
 * a poll returned nothing.
 *
 * Tasks created later: the instance keeps the latest record per key of each control topic (what
 * reading a compacted topic from the start would give; a null key counts as one key), bounded by
 * the number of keys, and replays it, in the order the records were read, to each task when it is
 * attached, before its first data record.
 *
 * Records that fail to decode follow the topology's error policy once per instance: `fail` throws
 * (STREAM_DESERIALIZATION naming topic, partition and offset), `skip` counts, `dead-letter` sends
 * the original record with the error to the dead-letter topic (again on every instance that reads
 * it, and again after a restart, since control topics are re-read from the start). A failure of
 * the `perInstance` listener follows the `processing` policy the same way (STREAM_PROCESSING), and
 * the tasks still get the record. Failures of a task's `control()` are that task's processing
 * errors (task/task.ts).
 */
import type { LogRecord, ProducerRecord } from '../../log/types.ts';
import { deserializationError, processingError, type RecordFailure } from '../failure.ts';
import type { PartitionReader, StateReaders } from '../state/readers.ts';
import { deadLetter } from '../task/dead-letter.ts';
import type { AnyRecord, ControlNode } from '../topology/nodes.ts';
import type { Topology } from '../topology/topology.ts';

/** A control record as read (`raw`, for dead letters) and decoded (`record`, for processors). */
export interface ControlEntry {
  readonly raw: LogRecord;
  readonly record: AnyRecord;
}

/** What control records are applied to: a task with connected processors. */
export interface ControlTarget {
  /** The control topics its connected processors read. */
  readonly controlTopics: ReadonlySet<string>;
  /** Applies records (of any control topic, in order); resolves when every processor has. */
  applyControl(entries: readonly ControlEntry[]): Promise<void>;
}

/** Metrics of one control topic on one instance. */
export interface ControlMetrics {
  readonly topic: string;
  /** Records read (including ones that then failed to decode). */
  readonly recordsIn: number;
  /** Records that failed to decode or on which the `perInstance` listener failed, and of those the ones skipped and dead-lettered. */
  readonly errors: number;
  readonly skipped: number;
  readonly deadLettered: number;
  /** Keys in the instance's latest-record-per-key view (what a new task is replayed). */
  readonly keys: number;
}

/** What {@link ControlState} needs. */
export interface ControlStateOptions {
  readonly topology: Topology;
  readonly applicationId: string;
  readonly readers: StateReaders;
  /** Produces dead letters of undecodable control records (acknowledged when it resolves). */
  readonly deadLetter: (records: readonly ProducerRecord[]) => Promise<void>;
}

interface Topic {
  readonly node: ControlNode;
  readonly reader: PartitionReader;
  /** The instance's listener (`perInstance`), or null. */
  readonly listener: ((record: AnyRecord) => void | Promise<void>) | null;
  recordsIn: number;
  errors: number;
  skipped: number;
  deadLettered: number;
  keys: number;
}

const latin1 = new TextDecoder('latin1');

/** The control streams of an instance. */
export class ControlState {
  readonly #options: ControlStateOptions;
  readonly #topics = new Map<string, Topic>();
  /** Latest entry per (topic, key), in the order of their last update. */
  readonly #view = new Map<string, ControlEntry>();
  readonly #targets = new Set<ControlTarget>();
  /** advance() and attach() run one at a time, in call order. */
  #queue: Promise<void> = Promise.resolve();

  constructor(options: ControlStateOptions) {
    this.#options = options;
    for (const node of options.topology.controls()) {
      const topic = node.topic.name;
      const listener = node.perInstance === null ? null : node.perInstance();
      this.#topics.set(topic, { node, reader: options.readers.open(topic, null), listener, recordsIn: 0, errors: 0, skipped: 0, deadLettered: 0, keys: 0 });
    }
  }

  /** True when the topology has at least one control stream. */
  get any(): boolean {
    return this.#topics.size > 0;
  }

  /** True when `topic` is a control topic. */
  has(topic: string): boolean {
    return this.#topics.has(topic);
  }

  /** Reads every control topic to its end (start of an instance, before it takes data). */
  restore(): Promise<void> {
    return this.advance('end');
  }

  /**
   * Reads what was appended to the control topics since the last call — up to their current end
   * offsets (`end`), or what is available now without waiting (`available`) — and hands it to the
   * `perInstance` listeners, then to every attached task. Rejects with the first record failure
   * under the `fail` policy, after applying the records read before it.
   */
  advance(mode: 'end' | 'available'): Promise<void> {
    return this.#serial(async () => {
      for (const topic of this.#topics.values()) {
        const fresh: ControlEntry[] = [];
        const dead: ProducerRecord[] = [];
        const read = (raw: LogRecord): void => this.#read(topic, raw, fresh, dead);
        let failure: unknown;
        try {
          await (mode === 'end' ? topic.reader.readToEnd(read) : topic.reader.catchUp(read));
        } catch (error) {
          failure = error;
        }
        if (topic.listener !== null && fresh.length > 0) failure = (await this.#listen(topic, topic.listener, fresh, dead)) ?? failure;
        if (dead.length > 0) await this.#options.deadLetter(dead);
        if (fresh.length > 0) await Promise.all([...this.#targets].filter((t) => t.controlTopics.has(topic.node.topic.name)).map((t) => t.applyControl(fresh)));
        if (failure !== undefined) throw failure;
      }
    });
  }

  /** Attaches a task: replays the current view (latest record per key, in read order) to it first. */
  attach(target: ControlTarget): Promise<void> {
    return this.#serial(async () => {
      this.#targets.add(target);
      const replay = [...this.#view.values()].filter((e) => target.controlTopics.has(e.raw.topic));
      if (replay.length > 0) await target.applyControl(replay);
    });
  }

  /** Detaches a closed task. */
  detach(target: ControlTarget): void {
    this.#targets.delete(target);
  }

  /** A snapshot of every control topic's metrics. */
  metrics(): ControlMetrics[] {
    return [...this.#topics.values()].map((t) => Object.freeze({
      topic: t.node.topic.name,
      recordsIn: t.recordsIn,
      errors: t.errors,
      skipped: t.skipped,
      deadLettered: t.deadLettered,
      keys: t.keys,
    }));
  }

  /** Closes the readers. */
  async close(): Promise<void> {
    for (const t of this.#topics.values()) await t.reader.close();
  }

  /** Decodes one record into the view and `fresh`, or handles its failure (policy). */
  #read(topic: Topic, raw: LogRecord, fresh: ControlEntry[], dead: ProducerRecord[]): void {
    topic.recordsIn++;
    const { node } = topic;
    const origin = { topic: raw.topic, partition: raw.partition, offset: raw.offset };
    let record: AnyRecord;
    try {
      const key = raw.key === null ? null : node.keyCodec.decode(raw.key);
      record = { key, value: node.valueCodec.decode(raw.value), timestamp: raw.timestamp, headers: raw.headers, origin };
    } catch (cause) {
      topic.errors++;
      const failure = deserializationError(node.name, origin, cause) as RecordFailure;
      const { errors } = this.#options.topology;
      if (errors.deserialization === 'fail') throw failure;
      if (errors.deserialization === 'dead-letter') {
        dead.push(deadLetter(raw, failure, errors.deadLetterTopic!, this.#options.applicationId));
        topic.deadLettered++;
      } else {
        topic.skipped++;
      }
      return;
    }
    const entry = { raw, record };
    const id = `${raw.topic}\0${raw.key === null ? 'n' : `k${latin1.decode(raw.key)}`}`;
    if (!this.#view.delete(id)) topic.keys++;
    this.#view.set(id, entry);
    if (this.#targets.size > 0 || topic.listener !== null) fresh.push(entry);
  }

  /**
   * Hands `entries` to the topic's listener in order and awaits what it returns. A failure follows
   * the processing policy: under `fail` the first one is returned (advance() throws it once the
   * tasks have the records) and the listener gets no later record; under `skip` and `dead-letter`
   * (into `dead`) the next records go on.
   */
  async #listen(topic: Topic, listener: (record: AnyRecord) => void | Promise<void>, entries: readonly ControlEntry[], dead: ProducerRecord[]): Promise<unknown> {
    let failure: unknown;
    const fail = (entry: ControlEntry, cause: unknown): void => {
      topic.errors++;
      const error = processingError(topic.node.name, entry.record.origin, cause) as RecordFailure;
      const { errors } = this.#options.topology;
      if (errors.processing === 'fail') {
        failure ??= error;
      } else if (errors.processing === 'dead-letter') {
        dead.push(deadLetter(entry.raw, error, errors.deadLetterTopic!, this.#options.applicationId));
        topic.deadLettered++;
      } else {
        topic.skipped++;
      }
    };
    const pending: Promise<void>[] = [];
    for (const entry of entries) {
      if (failure !== undefined) break;
      try {
        const r = listener(entry.record);
        if (r !== undefined) pending.push(r.catch((cause: unknown) => fail(entry, cause)));
      } catch (cause) {
        fail(entry, cause);
      }
    }
    await Promise.all(pending);
    return failure;
  }

  #serial(fn: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => {});
    return run;
  }
}
