/**
 * What is live now, per model name: the descriptors on the compacted `models` topic, read in full
 * by a consumer assigned by hand (no group), with the topic's acceptance rule (model/models-topic.ts,
 * the one serving applies) in order — a valid descriptor replaces the current one when its version
 * is higher, or when it carries the rollback header `sluice.rollback: 1`; an invalid one is passed
 * over; only records keyed by a model's own name count (not `<name>@shadow`) — and, for a name the topic
 * does not know, the latest version in the model store. Also the next free version per name: above
 * every version on the topic and in the store.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ErrorCode, SluiceError, isSluiceError } from '../errors.ts';
import type { Log, LogRecord } from '../log/index.ts';
import type { ModelDescriptor } from '../model/descriptor.ts';
import { parseDescriptor } from '../model/descriptor-parse.ts';
import { headerFlag, ModelHeader, supersedes } from '../model/models-topic.ts';
import { detectorFactories } from '../model/registry.ts';
import type { ModelStore } from '../model/store.ts';
import { throwIfAborted } from './abort.ts';

/** The live descriptors of the models topic and the highest version seen per name. */
export interface LiveModels {
  /** The live descriptor of `name` (topic, else the store's latest), or null. */
  live(name: string): Promise<ModelDescriptor | null>;
  /** The version a new model of `name` gets: one above every version on the topic and in the store. */
  nextVersion(name: string): Promise<number>;
}

/** How the models topic is read. */
export interface ReadOptions {
  readonly pollTimeoutMs: number;
  /** LOG_TIMEOUT when the read makes no progress for this long. */
  readonly stallTimeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

const decoder = new TextDecoder();

/**
 * Reads the models topic up to its end when called (a missing topic is an empty one) and returns
 * the view above for the models `names` (only their descriptors are kept: memory stays bounded by
 * the models being trained), backed by `store` for names the topic does not have.
 */
export async function readLiveModels(log: Log, topic: string, store: ModelStore, names: ReadonlySet<string>, options: ReadOptions): Promise<LiveModels> {
  const current = new Map<string, ModelDescriptor>();
  const highest = new Map<string, number>();
  await readWholeTopic(log, topic, names, options, (record) => {
    let d: ModelDescriptor;
    try {
      d = parseDescriptor(decoder.decode(record.value), { registry: detectorFactories });
    } catch {
      return;
    }
    if (decoder.decode(record.key!) !== d.name) return;
    highest.set(d.name, Math.max(highest.get(d.name) ?? 0, d.version));
    if (supersedes(current.get(d.name)?.version, d.version, headerFlag(record.headers, ModelHeader.rollback))) current.set(d.name, d);
  });
  return {
    async live(name) {
      return current.get(name) ?? (await store.latest(name));
    },
    async nextVersion(name) {
      const stored = (await store.versions(name)).at(-1) ?? 0;
      return Math.max(stored, highest.get(name) ?? 0) + 1;
    },
  };
}

/** Passes `onRecord` the records of `topic` whose key is one of `names`, in order, from the start to the end when called. */
async function readWholeTopic(log: Log, topic: string, names: ReadonlySet<string>, options: ReadOptions, onRecord: (record: LogRecord) => void): Promise<void> {
  let partitions;
  try {
    partitions = (await log.admin.describeTopic(topic)).partitions;
  } catch (error) {
    if (isSluiceError(error, ErrorCode.LOG_UNKNOWN_TOPIC)) return;
    throw error;
  }
  const consumer = log.consumer({ autoOffsetReset: 'earliest' });
  try {
    await consumer.assign(partitions.map((p) => ({ topic, partition: p.partition })));
    const left = new Map(partitions.filter((p) => p.endOffset > p.startOffset).map((p) => [p.partition, p.endOffset]));
    for (const p of partitions) await consumer.seek({ topic, partition: p.partition }, 'earliest');
    let lastProgress = performance.now();
    while (left.size > 0) {
      throwIfAborted(options.signal);
      const batch = await consumer.poll({ timeoutMs: options.pollTimeoutMs });
      for (const r of batch) {
        const end = left.get(r.partition);
        if (end !== undefined && r.offset < end && r.key !== null && names.has(decoder.decode(r.key))) onRecord(r);
      }
      for (const [partition, end] of left) if ((await consumer.position({ topic, partition })) >= end) left.delete(partition);
      await yieldToLoop();
      if (batch.length > 0) lastProgress = performance.now();
      else if (performance.now() - lastProgress > options.stallTimeoutMs) {
        throw new SluiceError(ErrorCode.LOG_TIMEOUT, `reading topic '${topic}' to its end made no progress for ${options.stallTimeoutMs} ms (partitions ${[...left.keys()].join(', ')})`, {
          retriable: true,
          details: { topic },
        });
      }
    }
  } finally {
    await consumer.close();
  }
}
