/**
 * Observability of the log (DESIGN.md §6.8): every backend's sends, polls and commits are
 * published on `node:diagnostics_channel` channels, whichever backend is behind the API. Nothing
 * is computed unless a channel has subscribers.
 *
 *   sluice:log:send    { backend, records, partitions, durationMs, error? }  after each send
 *   sluice:log:poll    { backend, records, durationMs, error? }              after each poll
 *   sluice:log:commit  { backend, partitions, durationMs, error? }           after each commit
 *                      (partitions: how many were given, or null for "all assigned")
 */
import { channel } from 'node:diagnostics_channel';
import type { Consumer, Log, Producer } from './types.ts';

/** The channels the log publishes on. */
export const LOG_CHANNELS = {
  send: 'sluice:log:send',
  poll: 'sluice:log:poll',
  commit: 'sluice:log:commit',
} as const;

const sendChannel = channel(LOG_CHANNELS.send);
const pollChannel = channel(LOG_CHANNELS.poll);
const commitChannel = channel(LOG_CHANNELS.commit);

/** Runs `op`, then publishes what it did (and how long it took) when someone listens. */
async function observed<T>(ch: ReturnType<typeof channel>, op: () => Promise<T>, describe: (result: T | undefined) => Record<string, unknown>): Promise<T> {
  if (!ch.hasSubscribers) return op();
  const start = performance.now();
  try {
    const result = await op();
    ch.publish({ ...describe(result), durationMs: performance.now() - start });
    return result;
  } catch (error) {
    ch.publish({ ...describe(undefined), durationMs: performance.now() - start, error });
    throw error;
  }
}

function instrumentProducer(producer: Producer, backend: string): Producer {
  const send = producer.send.bind(producer);
  producer.send = (records) =>
    observed(sendChannel, () => send(records), (metadata) => ({
      backend,
      records: Array.isArray(records) ? records.length : 0,
      partitions: metadata === undefined ? 0 : new Set(metadata.map((m) => `${m.topic}\u0000${m.partition}`)).size,
    }));
  return producer;
}

function instrumentConsumer(consumer: Consumer, backend: string): Consumer {
  const poll = consumer.poll.bind(consumer);
  const commit = consumer.commit.bind(consumer);
  consumer.poll = (options) => observed(pollChannel, () => poll(options), (records) => ({ backend, records: records?.length ?? 0 }));
  consumer.commit = (offsets) =>
    observed(commitChannel, () => commit(offsets), () => ({ backend, partitions: offsets?.length ?? null }));
  return consumer;
}

/** Makes every producer and consumer of `log` publish on the {@link LOG_CHANNELS}. */
export function instrument(log: Log): Log {
  const producer = log.producer.bind(log);
  const consumer = log.consumer.bind(log);
  return Object.assign(log, {
    producer: (options?: Parameters<Log['producer']>[0]) => instrumentProducer(producer(options), log.backend),
    consumer: (options?: Parameters<Log['consumer']>[0]) => instrumentConsumer(consumer(options), log.backend),
  });
}
