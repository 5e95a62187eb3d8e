/**
 * A training test's world: a real embedded log in a temporary directory with a synthetic fleet's
 * telemetry, a model store beside it, and a reader of everything on the models topic.
 */
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import { openLog, type Log, type LogRecord, type Telemetry } from '../../src/log/index.ts';
import type { ModelDescriptor } from '../../src/model/descriptor.ts';
import { ModelStore, type ModelStoreOptions } from '../../src/model/store.ts';
import { pollUntil, tempDir, text } from '../helpers.ts';
import { fleetTelemetry, produceTelemetry, type FleetSpec } from './fleet.ts';

/** 2026-01-01T00:00:00Z. */
export const START = 1_767_225_600_000;
/** A record per device per minute. */
export const STEP = 60_000;

/** The log, the store and the telemetry of one test. */
export interface World {
  readonly log: Log;
  readonly store: ModelStore;
  readonly dir: string;
  readonly telemetry: readonly Telemetry[];
}

/** Opens a fresh world holding `fleet`'s telemetry on topic `telemetry`; closed and removed after the test. */
export async function world(t: TestContext, fleet: Partial<FleetSpec> = {}, storeOptions: ModelStoreOptions = {}): Promise<World> {
  const dir = await tempDir('sluice-training-');
  const log = await openLog({ backend: 'embedded', dir: dir.path });
  t.after(async () => {
    await log.close();
    await dir.remove();
  });
  const telemetry = fleetTelemetry({ classes: { pump: ['p1', 'p2', 'p3'], fan: ['f1', 'f2'] }, records: 1_000, start: START, stepMs: STEP, ...fleet });
  await produceTelemetry(log, 'telemetry', telemetry);
  return { log, store: new ModelStore({ dir: join(dir.path, 'models'), ...storeOptions }), dir: dir.path, telemetry };
}

/** A record of the models topic: its descriptor and headers. */
export interface ModelsRecord {
  readonly descriptor: ModelDescriptor;
  readonly key: string;
  readonly record: LogRecord;
}

/** Everything on the models topic, in offset order ([] when the topic does not exist). */
export async function readModelsTopic(log: Log, topic = 'models'): Promise<ModelsRecord[]> {
  if (!(await log.admin.listTopics()).includes(topic)) return [];
  const partitions = (await log.admin.describeTopic(topic)).partitions;
  const total = partitions.reduce((n, p) => n + p.endOffset - p.startOffset, 0);
  const consumer = log.consumer();
  try {
    await consumer.assign(partitions.map((p) => ({ topic, partition: p.partition })));
    for (const p of partitions) await consumer.seek({ topic, partition: p.partition }, 'earliest');
    const records = await pollUntil(consumer, (all) => all.length >= total, 10_000);
    return records
      .sort((a, b) => a.partition - b.partition || a.offset - b.offset)
      .map((record) => ({ record, key: text(record.key!), descriptor: JSON.parse(text(record.value)) as ModelDescriptor }));
  } finally {
    await consumer.close();
  }
}
