/**
 * Synthetic fleet telemetry for the training tests: devices of a few classes whose metrics follow a
 * daily-ish wave plus seeded noise, one record per device every `stepMs`, produced to a real log
 * with the record timestamp set to the event time (as the gateway does).
 */
import { createRng } from '../../src/model/detectors/common/prng.ts';
import { telemetryCodec, type Log, type RecordMetadata, type Telemetry } from '../../src/log/index.ts';

/** Shape of a synthetic fleet. */
export interface FleetSpec {
  /** Device ids by class name (null: no class tag). */
  readonly classes: Readonly<Record<string, readonly string[]>>;
  /** Records per device. */
  readonly records: number;
  /** Event time of the first record, ms. */
  readonly start: number;
  /** Event time between two records of a device, ms. */
  readonly stepMs: number;
  readonly seed?: number;
}

const encoder = new TextEncoder();

/** The fleet's telemetry in event-time order (devices interleaved). */
export function fleetTelemetry(spec: FleetSpec): Telemetry[] {
  const rng = createRng(spec.seed ?? 7);
  const devices = Object.entries(spec.classes).flatMap(([cls, ids]) => ids.map((id, k) => ({ id, cls, level: 50 + 10 * k + (cls.length % 5) * 3 })));
  const out: Telemetry[] = [];
  for (let i = 0; i < spec.records; i++) {
    for (const d of devices) {
      const wave = Math.sin((2 * Math.PI * i) / 96);
      const noise = (): number => (rng.next() + rng.next() + rng.next() - 1.5) * 0.8;
      out.push({
        deviceId: d.id,
        ts: spec.start + i * spec.stepMs,
        seq: i,
        metrics: { temp: d.level + 5 * wave + noise(), vib: 2 + 0.3 * wave + noise() * 0.1 },
        ...(d.cls === '' ? {} : { tags: { class: d.cls } }),
      });
    }
  }
  return out;
}

/**
 * Creates `topic` (if needed) and appends the records, keyed by device id, timestamp = event time;
 * returns where each landed, in input order.
 */
export async function produceTelemetry(log: Log, topic: string, records: readonly Telemetry[], partitions = 2): Promise<RecordMetadata[]> {
  try {
    await log.admin.createTopic(topic, { partitions });
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'SLUICE_LOG_TOPIC_EXISTS') throw error;
  }
  const producer = log.producer();
  const landed: RecordMetadata[] = [];
  for (let i = 0; i < records.length; i += 5_000) {
    const batch = records.slice(i, i + 5_000).map((t) => ({ topic, key: encoder.encode(t.deviceId), value: telemetryCodec.encode(t), timestamp: t.ts }));
    landed.push(...(await producer.send(batch)));
  }
  await producer.close();
  return landed;
}
