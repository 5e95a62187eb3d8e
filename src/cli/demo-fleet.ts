/**
 * A tiny simulated fleet for `sluice start`: a handful of machines whose sensors drift slowly
 * around a baseline with noise. Each reading carries its machine kind in the tag `class` (the
 * device class that models are trained and routed by). Anomalies happen only when injected
 * ({@link DemoFleet.inject}): a change of some metrics of one device for its next few readings, so
 * that whoever injects knows which readings (by `seq`) are anomalous. Deterministic for a given seed.
 */
import { ErrorCode, SluiceError } from '../errors.ts';
import type { Telemetry } from '../log/index.ts';
import { SeededRandom } from './demo-random.ts';

/** Kinds of simulated machines and their sensors' baselines. */
const KINDS = {
  pump: { temperature: 58, vibration: 2.2, pressure: 6.1, rpm: 1480 },
  fan: { temperature: 41, vibration: 1.1, pressure: 1.02, rpm: 920 },
  compressor: { temperature: 72, vibration: 3.4, pressure: 8.4, rpm: 2950 },
  motor: { temperature: 65, vibration: 1.8, pressure: 1.0, rpm: 1760 },
} as const;

/** Decimals kept per metric. */
const PRECISION = { temperature: 1, vibration: 2, pressure: 2, rpm: 0 } as const;

type Kind = keyof typeof KINDS;
type MetricName = keyof (typeof KINDS)['pump'];
type Metrics = Record<MetricName, number>;

/** Names of the metrics every simulated device reports. */
export const DEMO_METRICS: readonly string[] = Object.keys(KINDS.pump);

/** A change applied to some metrics of one device for its next `readings` readings. */
export interface FleetChange {
  readonly deviceId: string;
  /** Metric name → relative change (0.3: 30 % above the reading it would have had). */
  readonly metrics: Readonly<Record<string, number>>;
  readonly readings: number;
}

/** The readings a change applies to: the device's `seq` numbers, inclusive. */
export interface ChangedReadings {
  readonly firstSeq: number;
  readonly lastSeq: number;
}

interface Device {
  readonly id: string;
  readonly kind: Kind;
  readonly base: Metrics;
  readonly drift: Metrics;
  seq: number;
  change: { readonly metrics: Readonly<Record<string, number>>; left: number } | null;
}

/** Options of {@link DemoFleet}. */
export interface DemoFleetOptions {
  /** Number of devices. */
  readonly devices: number;
  /** Seed of the pseudo-random generator. Default 1. */
  readonly seed?: number;
}

/** Produces one reading at a time, cycling through the devices. */
export class DemoFleet {
  readonly #devices: Device[];
  readonly #random: SeededRandom;
  #next = 0;

  constructor(options: DemoFleetOptions) {
    this.#random = new SeededRandom(options.seed ?? 1);
    const kinds = Object.keys(KINDS) as Kind[];
    this.#devices = Array.from({ length: options.devices }, (_, i) => {
      const kind = kinds[i % kinds.length]!;
      const base = { ...KINDS[kind] };
      return { id: `${kind}-${String(i + 1).padStart(2, '0')}`, kind, base, drift: { temperature: 0, vibration: 0, pressure: 0, rpm: 0 }, seq: 0, change: null };
    });
  }

  /** Ids of the simulated devices. */
  get deviceIds(): string[] {
    return this.#devices.map((d) => d.id);
  }

  /**
   * Applies `change` to the device's next readings (replacing a change still running on it) and
   * returns their sequence numbers.
   */
  inject(change: FleetChange): ChangedReadings {
    const d = this.#devices.find((x) => x.id === change.deviceId);
    if (d === undefined) throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `/change/deviceId: no simulated device ${JSON.stringify(change.deviceId)}`);
    if (!Number.isInteger(change.readings) || change.readings < 1) {
      throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `/change/readings must be an integer ≥ 1, got ${change.readings}`);
    }
    d.change = { metrics: change.metrics, left: change.readings };
    return { firstSeq: d.seq, lastSeq: d.seq + change.readings - 1 };
  }

  /** The next reading (of the next device in turn), stamped with event time `ts`. */
  next(ts: number): Telemetry {
    const d = this.#devices[this.#next++ % this.#devices.length]!;
    const change = d.change;
    if (change !== null && --change.left === 0) d.change = null;
    const metrics: Record<string, number> = {};
    for (const name of Object.keys(d.base) as MetricName[]) {
      const base = d.base[name];
      // A slow random walk pulled back towards the baseline, plus measurement noise.
      d.drift[name] = d.drift[name] * 0.98 + this.#random.gauss() * base * 0.004;
      let v = base + d.drift[name] + this.#random.gauss() * base * 0.01;
      v *= 1 + (change?.metrics[name] ?? 0);
      const scale = 10 ** PRECISION[name];
      metrics[name] = Math.round(v * scale) / scale;
    }
    return { deviceId: d.id, ts, seq: d.seq++, metrics, tags: { class: d.kind } };
  }
}
