/**
 * `run()`: materialises a topology on a log. It checks the options and topics, creates the
 * internal topics, joins the consumer group `applicationId` (tasks follow the group's assignment)
 * and starts the processing loop.
 */
import { systemClock } from '../clock.ts';
import { BufferCollector } from '../task/collector.ts';
import type { Topology } from '../topology/topology.ts';
import { StreamApp } from './app.ts';
import { AtLeastOnceDelivery } from './delivery.ts';
import { RUN_DEFAULTS, validateRunOptions, type RunOptions } from './options.ts';
import { TaskManager } from './task-manager.ts';
import { prepareTopics } from './topics.ts';

/**
 * Runs `topology` on `options.log` as one instance of application `options.applicationId`. Start
 * more instances (in this or other processes) with the same id to spread the partitions.
 *
 *     const app = await run(topology, { log, applicationId: 'scorer' });
 *     // … later
 *     await app.close();
 */
export async function run(topology: Topology, options: RunOptions): Promise<StreamApp> {
  validateRunOptions(options);
  const o = { ...RUN_DEFAULTS, ...options };
  const { log, applicationId } = options;
  const clock = options.clock ?? systemClock;
  const inputs = await prepareTopics(log.admin, topology, applicationId, options.internalTopicPartitions);
  const collector = new BufferCollector();
  const tasks = new TaskManager({ topology, applicationId, clock, collector });
  const consumer = log.consumer({
    groupId: applicationId,
    autoOffsetReset: o.autoOffsetReset,
    maxPollRecords: o.maxBatchRecords,
    sessionTimeoutMs: o.sessionTimeoutMs,
    heartbeatIntervalMs: o.heartbeatIntervalMs,
  });
  const producer = log.producer({ acks: 'all' });
  try {
    await consumer.subscribe(inputs, tasks);
  } catch (error) {
    await consumer.close();
    await producer.close();
    throw error;
  }
  return new StreamApp({
    applicationId,
    consumer,
    delivery: new AtLeastOnceDelivery(producer, consumer),
    tasks,
    collector,
    clock,
    maxBatchRecords: o.maxBatchRecords,
    pollTimeoutMs: o.pollTimeoutMs,
    onError: options.onError,
  });
}
