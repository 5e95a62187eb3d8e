/**
 * The probe a model passes before it may serve: it scores a batch of observations on a fresh series
 * state, and is rejected (SERVING_PROBE_FAILED) if any call throws, any score is not a finite
 * number in [0, 1], an explanation has a weight that is not a finite number ≥ 0, or its state does
 * not survive a JSON round trip (what the changelog does to it).
 *
 * The batch: the recent telemetry this instance saw (a sample, see {@link ObservationSample}),
 * then synthetic observations of the model's features — smooth waves with spikes, a level shift
 * and missing values — so a model is probed even before any traffic. Deterministic: the same
 * sample gives the same batch.
 */
import { ErrorCode, SluiceError } from '../errors.ts';
import type { DetectorModel, Observation } from '../model/index.ts';

/** A bounded sample of recent observations: one in `every` is kept, the last `size` of those. */
export class ObservationSample {
  readonly #ring: (Observation | undefined)[];
  readonly #every: number;
  #seen = 0;
  #next = 0;

  constructor(size = 16, every = 64) {
    this.#ring = new Array<Observation | undefined>(size);
    this.#every = every;
  }

  /** Offers one observation (kept one time in `every`). */
  offer(ts: number, values: Readonly<Record<string, number>>): void {
    if (this.#seen++ % this.#every !== 0) return;
    this.#ring[this.#next] = { ts, values };
    this.#next = (this.#next + 1) % this.#ring.length;
  }

  /** The kept observations, oldest first. */
  list(): Observation[] {
    const out: Observation[] = [];
    for (let i = 0; i < this.#ring.length; i++) {
      const o = this.#ring[(this.#next + i) % this.#ring.length];
      if (o !== undefined) out.push(o);
    }
    return out;
  }
}

/** The probe batch for `features`: up to half recent observations, the rest synthetic (≥ 1 in all). */
export function probeBatch(features: readonly string[], recent: readonly Observation[], size: number, now: number): Observation[] {
  const real = recent.slice(-Math.floor(size / 2));
  const out: Observation[] = [...real];
  let ts = real.length > 0 ? real[real.length - 1]!.ts : now;
  for (let i = 0; out.length < size; i++) {
    ts += 1_000;
    const values: Record<string, number> = {};
    for (const [j, f] of features.entries()) {
      if (i % 11 === 5 && j === 0) continue;
      let v = 10 * Math.sin(i * 0.7 + j) + j;
      if (i % 7 === 3) v *= 10;
      if (i >= size / 2) v += 25;
      values[f] = v;
    }
    out.push({ ts, values });
  }
  return out;
}

/** Probes `model` with `batch` (see the file comment); throws SERVING_PROBE_FAILED naming what failed. */
export function probeModel(model: DetectorModel, batch: readonly Observation[]): void {
  let state: unknown;
  let step = 'newState()';
  try {
    state = model.newState();
    for (const [i, obs] of batch.entries()) {
      step = `score() of probe record ${i}`;
      const s = model.score(state, obs);
      if (typeof s !== 'number' || !(s >= 0 && s <= 1)) throw new Error(`returned ${String(s)}, not a number in [0, 1]`);
    }
    step = 'explain()';
    const weights = model.explain(state, batch[batch.length - 1]!);
    for (const [metric, w] of Object.entries(weights)) {
      if (typeof w !== 'number' || !(w >= 0 && w < Number.POSITIVE_INFINITY)) throw new Error(`weight of ${metric} is ${String(w)}, not a finite number ≥ 0`);
    }
    step = 'the state JSON round trip';
    model.stateFromJSON(JSON.parse(JSON.stringify(model.stateToJSON(state))));
  } catch (cause) {
    throw new SluiceError(ErrorCode.SERVING_PROBE_FAILED, `probe failed in ${step}: ${(cause as Error)?.message ?? String(cause)}`, { cause, details: { step } });
  }
}
