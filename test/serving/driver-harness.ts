/**
 * The serving topology in the stream layer's TopologyTestDriver: models are published through the
 * `models` control topic (and handed to the manager as boot would, so none waits for a task to
 * exist), telemetry is piped in as raw records, and scores, anomalies and dead letters are read
 * back decoded. Virtual wall clock; the service's clock is a ManualClock at {@link NOW}.
 */
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import { bytesCodec, openLog, stringCodec, telemetryCodec, type LogRecord, type Telemetry } from '../../src/log/index.ts';
import { ModelStore, type DetectorFactory, type ModelDescriptor } from '../../src/model/index.ts';
import { ManualClock, TopologyTestDriver } from '../../src/stream/index.ts';
import { anomalyCodec, memoryLogger, ModelHeader, resolveServingOptions, shadowKey, type ServingOptions } from '../../src/serving/index.ts';
import { ServingCounters } from '../../src/serving/counters.ts';
import { ModelManager } from '../../src/serving/model-manager.ts';
import { servingTopology } from '../../src/serving/topology.ts';
import { tempDir } from '../helpers.ts';
import { RAW_SCORES, testRegistry } from './helpers.ts';

/** The service clock's time in the driver tests. */
export const NOW = 1_800_000_000_000;

const encoder = new TextEncoder();

/** Options of {@link servingDriver}: serving options (log and clock are provided) and extra detectors. */
export type HarnessOptions = Partial<Omit<ServingOptions, 'log'>> & { readonly detectors?: readonly DetectorFactory[]; readonly telemetryPartitions?: number };

/** A serving topology in a test driver (see the file comment). */
export async function servingDriver(t: TestContext, options: HarnessOptions = {}) {
  const dir = await tempDir('sluice-serving-');
  const log = await openLog({ backend: 'embedded', dir: dir.path });
  const { detectors, telemetryPartitions, ...rest } = options;
  const registry = testRegistry(detectors);
  const clock = new ManualClock(NOW);
  const logger = memoryLogger();
  const resolved = resolveServingOptions({
    log,
    modelsDir: join(dir.path, 'models'),
    clock,
    registry,
    logger,
    decider: RAW_SCORES,
    stateCheckpointMs: 0,
    probeRecords: 16,
    topics: { scores: 'scores' },
    http: null,
    ...rest,
  });
  const counters = new ServingCounters();
  const store = new ModelStore({ dir: resolved.modelsDir, registry });
  const manager = new ModelManager({ store, registry, maxPayloadBytes: resolved.maxPayloadBytes, decider: resolved.decider, probeRecords: resolved.probeRecords, loadTimeoutMs: resolved.modelLoadTimeoutMs, clock, logger, counters });
  const driver = new TopologyTestDriver(servingTopology({ options: resolved, manager, counters, logger }), { partitions: { telemetry: telemetryPartitions ?? 1 } });
  t.after(async () => {
    await driver.close();
    await log.close();
    await dir.remove();
  });
  const models = driver.input('models', { key: stringCodec, value: bytesCodec });
  const input = driver.input('telemetry', { key: bytesCodec, value: bytesCodec });
  const scores = driver.output('scores', { key: stringCodec, value: anomalyCodec });
  const anomalies = driver.output('anomalies', { key: stringCodec, value: anomalyCodec });
  return {
    driver,
    manager,
    counters,
    logger,
    store,
    clock,
    scores,
    anomalies,
    /** Publishes a descriptor on the models control topic and waits until it is handled. */
    async publish(d: ModelDescriptor, flags: { readonly shadow?: boolean; readonly rollback?: boolean } = {}): Promise<void> {
      const headers: Record<string, Uint8Array> = {};
      if (flags.shadow === true) headers[ModelHeader.shadow] = encoder.encode('1');
      if (flags.rollback === true) headers[ModelHeader.rollback] = encoder.encode('1');
      await models.pipe(flags.shadow === true ? shadowKey(d.name) : d.name, encoder.encode(JSON.stringify(d)), { headers });
      const raw = driver.records('models').at(-1)!;
      manager.offer({ key: raw.key === null ? null : new TextDecoder().decode(raw.key), value: raw.value, headers: raw.headers, origin: raw });
      await manager.settled();
    },
    /** Pipes telemetry records (one batch), keyed by device id unless `key` says otherwise. */
    send(records: readonly Telemetry[], key?: (t: Telemetry) => string | null): Promise<void> {
      return input.pipeAll(
        records.map((r) => {
          const k = key === undefined ? r.deviceId : key(r);
          return { key: k === null ? null : encoder.encode(k), value: telemetryCodec.encode(r) };
        }),
      );
    },
    /** Pipes raw bytes as one telemetry record. */
    sendBytes(key: Uint8Array | null, value: Uint8Array): Promise<void> {
      return input.pipeBytes(key, value);
    },
    /** Every dead letter so far, as stored. */
    deadLetters(): readonly LogRecord[] {
      return driver.records('telemetry.dlq');
    },
  };
}

/** `n` readings of device `deviceId` (x = i, or `value(i)`), seq 0.., 1 s apart ending near {@link NOW}. */
export function readings(deviceId: string, n: number, options: { from?: number; value?: (i: number) => number; tags?: Record<string, string> } = {}): Telemetry[] {
  const from = options.from ?? 0;
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return { deviceId, ts: NOW - 3_600_000 + i * 1_000, seq: i, metrics: { x: options.value?.(i) ?? i }, ...(options.tags === undefined ? {} : { tags: options.tags }) };
  });
}
