/**
 * The three jobs of the stream benchmark (bench/stream.ts) as Sluice topologies, the input records
 * they read, and the aggregate's codec. The Kafka Streams peer (bench/peers/kafka-streams) runs the
 * same jobs on the same records; keep the two in step.
 *
 *   map     decode → calibrate every metric (v × 1.01 + 0.5) → encode → output topic
 *   window  tumbling window of `windowMs` per device: count, sum, min and max of `temp`, one update
 *           per input record (key = windowed device id, value = the 40-byte aggregate below)
 *   passthrough  key and value bytes copied to the output unchanged (no codecs, no user code): what
 *           the runtime and the log cost per record on their own. Not run by default; no peer.
 *
 * The window job is `groupByKey().windowedBy(TimeWindows.of(windowMs)).aggregate()` (grace 0, a
 * changelogged window store, every update emitted: the peer runs Kafka Streams with its cache off
 * for the same output). Outputs are keyed by the windowed key (device id + window start and end).
 */
import type { Codec, ProducerRecord, Telemetry } from '../src/log/index.ts';
import { bytesCodec, stringCodec, telemetryCodec } from '../src/log/index.ts';
import { TimeWindows, topology, type Topology } from '../src/stream/index.ts';

/** Job names, as in the JSON output and the peer's `--job`. */
export const StreamJob = { map: 'map', window: 'window', windowEos: 'window-eos', passthrough: 'passthrough' } as const;
/** One of the benchmark's jobs. */
export type StreamJob = (typeof StreamJob)[keyof typeof StreamJob];

/** False: the window job uses src/stream's event-time windows (it once used a stand-in before they landed). */
export const WINDOW_STAND_IN = false;

/** The per-device window aggregate. */
export interface WindowAgg {
  readonly windowStart: number;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
}

/** Where the aggregate codec writes before copying out (a small typed array never exposes its buffer). */
const scratch = new DataView(new ArrayBuffer(40));
const scratchBytes = new Uint8Array(scratch.buffer);

/**
 * 40 bytes, little-endian: int64 windowStart, int64 count (non-negative safe integers), float64
 * sum, min, max — the layout of the peer's WindowAgg serde.
 */
export const windowAggCodec: Codec<WindowAgg> = {
  name: 'bench-window-agg',
  encode(a) {
    scratch.setUint32(0, a.windowStart % 2 ** 32, true);
    scratch.setUint32(4, Math.floor(a.windowStart / 2 ** 32), true);
    scratch.setUint32(8, a.count % 2 ** 32, true);
    scratch.setUint32(12, Math.floor(a.count / 2 ** 32), true);
    scratch.setFloat64(16, a.sum, true);
    scratch.setFloat64(24, a.min, true);
    scratch.setFloat64(32, a.max, true);
    // A small typed array made by length lives on V8's heap: cheaper than slice()'s new ArrayBuffer.
    const out = new Uint8Array(40);
    out.set(scratchBytes);
    return out;
  },
  decode(bytes) {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const u64 = (at: number): number => v.getUint32(at, true) + v.getUint32(at + 4, true) * 2 ** 32;
    return { windowStart: u64(0), count: u64(8), sum: v.getFloat64(16, true), min: v.getFloat64(24, true), max: v.getFloat64(32, true) };
  },
};

const METRICS = ['temp', 'humidity', 'pressure', 'vibration', 'rpm', 'voltage', 'current', 'power'] as const;

/** The temperature of a reading (its first metric when it has none). */
function temp(t: Telemetry): number {
  return t.metrics.temp ?? Object.values(t.metrics)[0] ?? 0;
}

/** Describes one job reading `input` and writing `output`. */
export function streamTopology(job: StreamJob, input: string, output: string, windowMs: number): Topology {
  const b = topology();
  if (job === 'passthrough') {
    b.stream(input, { key: bytesCodec, value: bytesCodec }).to(output);
    return b.build();
  }
  const source = b.stream(input, { key: stringCodec, value: telemetryCodec });
  if (job === 'map') {
    source
      .mapValues((t) => {
        const metrics: Record<string, number> = {};
        for (const name in t.metrics) metrics[name] = t.metrics[name]! * 1.01 + 0.5;
        return { ...t, metrics };
      })
      .to(output, { value: telemetryCodec });
  } else {
    source
      .groupByKey()
      .windowedBy(TimeWindows.of(windowMs))
      .aggregate<WindowAgg>(
        () => ({ windowStart: -1, count: 0, sum: 0, min: Infinity, max: -Infinity }),
        (agg, t, r) => {
          const v = temp(t);
          if (agg.count === 0) return { windowStart: r.timestamp - (r.timestamp % windowMs), count: 1, sum: v, min: v, max: v };
          return { windowStart: agg.windowStart, count: agg.count + 1, sum: agg.sum + v, min: Math.min(agg.min, v), max: Math.max(agg.max, v) };
        },
        { name: 'agg-store', value: windowAggCodec },
      )
      .toStream()
      .to(output);
  }
  return b.build();
}

/**
 * `count` telemetry records over `devices` device ids (`device-00042`, also the key), one per
 * `stepMs` of event time ending at `endTs`, each with 8 metrics and a sequence number: about 150
 * bytes encoded. Values are encoded once here; the producer timestamp is the reading's `ts`.
 */
export function makeInput(topic: string, count: number, devices: number, endTs: number, stepMs: number): ProducerRecord[] {
  const keys = Array.from({ length: devices }, (_, i) => `device-${String(i).padStart(5, '0')}`);
  const keyBytes = keys.map((k) => stringCodec.encode(k));
  const records: ProducerRecord[] = new Array(count);
  const startTs = endTs - count * stepMs;
  for (let i = 0; i < count; i++) {
    const d = i % devices;
    const ts = startTs + i * stepMs;
    const metrics: Record<string, number> = {};
    for (let m = 0; m < METRICS.length; m++) metrics[METRICS[m]!] = Math.round(Math.sin(i * 0.001 + m + d) * 1e4) / 100;
    const value = telemetryCodec.encode({ deviceId: keys[d]!, ts, seq: Math.floor(i / devices), metrics });
    records[i] = { topic, key: keyBytes[d]!, value, timestamp: ts };
  }
  return records;
}
