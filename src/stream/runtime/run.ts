/**
 * `run()`: materialises a topology on a log. It checks the options and topics, creates the
 * internal topics, restores the global tables, reads the control topics to their end, joins the
 * consumer group `applicationId` (tasks follow the group's assignment) and starts the processing
 * loop.
 */
import { randomUUID } from 'node:crypto';
import { systemClock } from '../clock.ts';
import { ControlState } from '../control/state.ts';
import { GlobalStores } from '../state/global-stores.ts';
import { LogStateReaders } from '../state/readers.ts';
import { prepareStateTopics } from '../state/topics.ts';
import { BufferCollector } from '../task/collector.ts';
import type { Producer } from '../../log/types.ts';
import type { Topology } from '../topology/topology.ts';
import { StreamApp } from './app.ts';
import { AtLeastOnceCommitter } from './commit-alo.ts';
import { ExactlyOnceCommitter } from './commit-eos.ts';
import type { CommitContext, Committer } from './committer.ts';
import { AtLeastOnceDelivery, type Delivery } from './delivery.ts';
import { ExactlyOnceDelivery } from './delivery-eos.ts';
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
  await prepareStateTopics(log.admin, topology, applicationId);
  const readers = new LogStateReaders(log);
  const globals = new GlobalStores(topology.stores.values(), readers);
  await globals.restore();
  const controls = await openControls(topology, options, readers).catch(async (error: unknown) => {
    await globals.close();
    throw error;
  });
  const collector = new BufferCollector();
  const tasks = new TaskManager({ topology, applicationId, clock, collector, state: { readers, globals, controls: controls.state } });
  const consumer = log.consumer({
    groupId: applicationId,
    autoOffsetReset: o.autoOffsetReset,
    maxPollRecords: o.maxBatchRecords,
    sessionTimeoutMs: o.sessionTimeoutMs,
    heartbeatIntervalMs: o.heartbeatIntervalMs,
    isolationLevel: 'read_committed',
  });
  let delivery: Delivery;
  let committer: (context: CommitContext) => Committer;
  if (o.delivery === 'exactly-once') {
    const transactionalId = `${applicationId}-${options.instanceId ?? randomUUID()}`;
    const eos = new ExactlyOnceDelivery({ groupId: applicationId, consumer, producer: () => log.producer({ acks: 'all', transactionalId }) });
    delivery = eos;
    committer = (context) => new ExactlyOnceCommitter(context, eos);
  } else {
    // Outputs need not be flushed one by one where a durable offset commit makes every earlier
    // write durable (Log.orderedDurability): a power loss that takes outputs also takes the
    // offsets after them, so their inputs are processed again (at least once).
    const alo = new AtLeastOnceDelivery(log.producer({ acks: log.orderedDurability === true ? 'leader' : 'all' }), consumer);
    delivery = alo;
    committer = (context) => {
      const aloCommitter = new AtLeastOnceCommitter(context, alo, o.maxInFlightBatches, log.fixedCostPerSend === true && options.maxOutputDelayMs === undefined);
      if (options.maxOutputDelayMs !== undefined) context.collector.handOffAfter(options.maxOutputDelayMs, (records) => aloCommitter.sendEarly(records));
      return aloCommitter;
    };
  }
  try {
    await consumer.subscribe(inputs, tasks);
  } catch (error) {
    await consumer.close();
    await delivery.close();
    await globals.close();
    await controls.close();
    throw error;
  }
  const app = new StreamApp({
    applicationId,
    consumer,
    delivery,
    tasks,
    collector,
    clock,
    maxBatchRecords: o.maxBatchRecords,
    pollTimeoutMs: o.pollTimeoutMs,
    commitIntervalMs: o.commitIntervalMs,
    committer,
    lagRefreshMs: o.lagRefreshMs,
    controls: controls.state,
    onError: options.onError,
  });
  const closeState = async (): Promise<void> => {
    await globals.close();
    await controls.close();
  };
  void app.stopped().then(closeState, closeState);
  return app;
}

/**
 * The instance's control streams (null state when the topology has none), read to their end.
 * Dead letters of undecodable control records go out on a producer of their own, made on first
 * use: they belong to no batch (control topics are outside the transactions).
 */
async function openControls(topology: Topology, options: RunOptions, readers: LogStateReaders): Promise<{ state: ControlState | null; close(): Promise<void> }> {
  if (topology.controls().length === 0) return { state: null, close: () => Promise.resolve() };
  let producer: Producer | null = null;
  const state = new ControlState({
    topology,
    applicationId: options.applicationId,
    readers,
    deadLetter: async (records) => {
      producer ??= options.log.producer({ acks: 'all' });
      await producer.send(records);
    },
  });
  const close = async (): Promise<void> => {
    await state.close();
    await producer?.close();
  };
  try {
    await state.restore();
  } catch (error) {
    await close();
    throw error;
  }
  return { state, close };
}
