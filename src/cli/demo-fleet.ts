/**
 * A tiny simulated fleet for `sluice start`: a handful of machines whose sensors drift slowly
 * around a baseline with noise and, now and then, a short fault (a vibration and temperature
 * spike) so that the data has something worth detecting. Each reading carries its machine kind in
 * the tag `class` (the device class that models are trained and routed by). Deterministic for a
 * given seed.
 */
import type { Telemetry } from '../log/index.ts';

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
type Metrics = Record<keyof (typeof KINDS)['pump'], number>;

interface Device {
  readonly id: string;
  readonly kind: Kind;
  readonly base: Metrics;
  readonly drift: Metrics;
  seq: number;
  faultLeft: number;
}

/** Options of {@link DemoFleet}. */
export interface DemoFleetOptions {
  /** Number of devices. */
  readonly devices: number;
  /** Seed of the pseudo-random generator. Default 1. */
  readonly seed?: number;
  /** Chance per reading that a device starts a fault. Default 0.002. */
  readonly faultRate?: number;
}

/** Produces one reading at a time, cycling through the devices. */
export class DemoFleet {
  readonly #devices: Device[];
  readonly #faultRate: number;
  #next = 0;
  #state: number;

  constructor(options: DemoFleetOptions) {
    this.#state = (options.seed ?? 1) >>> 0 || 1;
    this.#faultRate = options.faultRate ?? 0.002;
    const kinds = Object.keys(KINDS) as Kind[];
    this.#devices = Array.from({ length: options.devices }, (_, i) => {
      const kind = kinds[i % kinds.length]!;
      const base = { ...KINDS[kind] };
      return { id: `${kind}-${String(i + 1).padStart(2, '0')}`, kind, base, drift: { temperature: 0, vibration: 0, pressure: 0, rpm: 0 }, seq: 0, faultLeft: 0 };
    });
  }

  /** Ids of the simulated devices. */
  get deviceIds(): string[] {
    return this.#devices.map((d) => d.id);
  }

  /** The next reading (of the next device in turn), stamped with event time `ts`. */
  next(ts: number): Telemetry {
    const d = this.#devices[this.#next++ % this.#devices.length]!;
    if (d.faultLeft === 0 && this.#random() < this.#faultRate) d.faultLeft = 5 + Math.floor(this.#random() * 10);
    const fault = d.faultLeft > 0;
    if (fault) d.faultLeft--;
    const metrics: Record<string, number> = {};
    for (const name of Object.keys(d.base) as (keyof Metrics)[]) {
      const base = d.base[name];
      // A slow random walk pulled back towards the baseline, plus measurement noise.
      d.drift[name] = d.drift[name] * 0.98 + this.#gauss() * base * 0.004;
      let v = base + d.drift[name] + this.#gauss() * base * 0.01;
      if (fault && name === 'vibration') v *= 2.5 + this.#random();
      if (fault && name === 'temperature') v += 8 + this.#random() * 6;
      const scale = 10 ** PRECISION[name];
      metrics[name] = Math.round(v * scale) / scale;
    }
    return { deviceId: d.id, ts, seq: d.seq++, metrics, tags: { class: d.kind } };
  }

  /** xorshift32 in [0, 1). */
  #random(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state / 0x1_0000_0000;
  }

  /** A standard normal sample (Box–Muller). */
  #gauss(): number {
    const u = 1 - this.#random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.#random());
  }
}
