/**
 * Injected anomalies of `sluice start`: now and then (every `everyMs` on average, ±25 %), one
 * simulated device gets a short spike (one or two metrics 30–50 % off for 3–6 readings) or a level
 * shift (one metric 15–25 % off for 30 readings). Seeded, so a run with the same seed injects the
 * same sequence of anomalies. Each injection says which readings it changed, so the anomalies that
 * serving reports can be matched to it.
 */
import type { DemoFleet } from './demo-fleet.ts';
import { DEMO_METRICS } from './demo-fleet.ts';
import { SeededRandom } from './demo-random.ts';

/** The kinds of injected anomaly. */
export const InjectionShape = { spike: 'spike', levelShift: 'level-shift' } as const;
/** One of {@link InjectionShape}. */
export type InjectionShape = (typeof InjectionShape)[keyof typeof InjectionShape];

/** An anomaly injected into the simulated fleet. */
export interface Injection {
  /** 1, 2, 3… in the order of injection. */
  readonly id: number;
  readonly deviceId: string;
  readonly shape: InjectionShape;
  /** Metric → relative change. */
  readonly metrics: Readonly<Record<string, number>>;
  /** The device's readings it changed (`seq`, inclusive). */
  readonly firstSeq: number;
  readonly lastSeq: number;
}

/** Options of {@link AnomalyInjector}. */
export interface InjectorOptions {
  readonly fleet: DemoFleet;
  /** Mean time between injections, ms. */
  readonly everyMs: number;
  readonly seed: number;
}

/** Decides when and what to inject, and injects it. */
export class AnomalyInjector {
  readonly #fleet: DemoFleet;
  readonly #everyMs: number;
  readonly #random: SeededRandom;
  #dueAt: number | null = null;
  #count = 0;

  constructor(options: InjectorOptions) {
    this.#fleet = options.fleet;
    this.#everyMs = options.everyMs;
    this.#random = new SeededRandom(options.seed);
  }

  /** Anomalies injected so far. */
  get count(): number {
    return this.#count;
  }

  /** Starts injecting: the first one is due about `everyMs` after `now`. */
  arm(now: number): void {
    this.#dueAt ??= now + this.#interval();
  }

  /** Injects an anomaly when one is due at `now` (and the injector is armed); null otherwise. */
  due(now: number): Injection | null {
    if (this.#dueAt === null || now < this.#dueAt) return null;
    this.#dueAt = now + this.#interval();
    const r = this.#random;
    const ids = this.#fleet.deviceIds;
    const deviceId = ids[r.int(ids.length)]!;
    const shape = r.next() < 0.6 ? InjectionShape.spike : InjectionShape.levelShift;
    const names = [...DEMO_METRICS];
    const picked = Array.from({ length: shape === InjectionShape.spike && r.next() < 0.5 ? 2 : 1 }, () => names.splice(r.int(names.length), 1)[0]!);
    const metrics: Record<string, number> = {};
    for (const name of picked) {
      const size = shape === InjectionShape.spike ? 0.3 + 0.2 * r.next() : 0.15 + 0.1 * r.next();
      metrics[name] = Math.round((r.next() < 0.5 ? -size : size) * 100) / 100;
    }
    const readings = shape === InjectionShape.spike ? 3 + r.int(4) : 30;
    const { firstSeq, lastSeq } = this.#fleet.inject({ deviceId, metrics, readings });
    return { id: ++this.#count, deviceId, shape, metrics, firstSeq, lastSeq };
  }

  #interval(): number {
    return this.#everyMs * (0.75 + 0.5 * this.#random.next());
  }
}

/** `spike on pump-01: vibration +42 %, temperature −35 % (readings #812–#815)`. */
export function describeInjection(i: Injection): string {
  const changes = Object.entries(i.metrics)
    .map(([m, c]) => `${m} ${c > 0 ? '+' : '−'}${Math.round(Math.abs(c) * 100)} %`)
    .join(', ');
  return `${i.shape} on ${i.deviceId}: ${changes} (readings #${i.firstSeq}–#${i.lastSeq})`;
}
