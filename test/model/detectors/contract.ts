/**
 * Shared checks of the DetectorModel contract, used by each detector's tests: a multivariate synthetic
 * stream, the serialise-and-continue round trip (bit-identical scores), and unknown-input handling.
 */
import assert from 'node:assert/strict';
import { createRng } from '../../../src/model/detectors/common/prng.ts';
import type { DetectorFactory, DetectorModel, FitOptions, JsonValue, Observation } from '../../../src/model/types.ts';

/** Metric names of the synthetic stream. */
export const METRICS = ['temp', 'vibration', 'current', 'pressure'] as const;

/**
 * A correlated multivariate stream: slow cycles plus noise; `spikeAt` rows get `spike` added to
 * `vibration`.
 */
export function stream(count: number, options: { seed?: number; start?: number; spikeAt?: readonly number[]; spike?: number } = {}): Observation[] {
  const rng = createRng(options.seed ?? 3);
  const spikes = new Set(options.spikeAt ?? []);
  const out: Observation[] = [];
  for (let n = 0; n < count; n++) {
    const i = n + (options.start ?? 0);
    const noise = (): number => rng.next() + rng.next() + rng.next() - 1.5;
    const cycle = Math.sin((2 * Math.PI * i) / 96);
    out.push({
      ts: 1_700_000_000_000 + i * 60_000,
      values: {
        temp: 40 + 5 * cycle + 0.3 * noise(),
        vibration: 1 + 0.2 * cycle + 0.05 * noise() + (spikes.has(i) ? (options.spike ?? 2) : 0),
        current: 12 + 2 * cycle + 0.2 * noise(),
        pressure: 3 + 0.1 * noise(),
      },
    });
  }
  return out;
}

function roundTrip(value: JsonValue): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

/**
 * Fits on `history`, scores `first`, rebuilds model and state from JSON, then scores `second` with both
 * copies: the scores must be identical bit for bit.
 */
export function assertRoundTrip(factory: DetectorFactory, history: readonly Observation[], first: readonly Observation[], second: readonly Observation[], options: FitOptions = {}): void {
  const model = factory.fit(history, options);
  const state = model.newState();
  for (const obs of first) model.score(state, obs);
  const copy: DetectorModel = factory.fromParams(roundTrip(model.toParams()), roundTrip(model.features as JsonValue) as string[]);
  assert.deepEqual(copy.toParams(), model.toParams());
  const copyState = copy.stateFromJSON(roundTrip(model.stateToJSON(state)));
  let compared = 0;
  for (const obs of second) {
    const a = model.score(state, obs);
    const b = copy.score(copyState, obs);
    assert.ok(Object.is(a, b), `score ${compared} differs after the round trip: ${a} vs ${b}`);
    compared++;
  }
  assert.deepEqual(copy.stateToJSON(copyState), model.stateToJSON(state));
}

/** Observations with NaN, ±Infinity, missing and non-numeric metrics. */
export function brokenObservations(ts: number): Observation[] {
  return [
    { ts, values: { temp: NaN, vibration: 1, current: 12, pressure: 3 } },
    { ts, values: { temp: Infinity, vibration: -Infinity, current: 12, pressure: 3 } },
    { ts, values: { vibration: 1 } },
    { ts, values: {} },
    { ts, values: { temp: 'hot' as unknown as number, vibration: null as unknown as number } },
    { ts, values: { temp: NaN, vibration: NaN, current: NaN, pressure: NaN } },
  ];
}

/** Scores every broken observation: never throws, never NaN, always in [0, 1]; returns the scores. */
export function assertSafeOnBrokenInput(model: DetectorModel, state: unknown, ts: number): number[] {
  const scores: number[] = [];
  for (const obs of brokenObservations(ts)) {
    const s = model.score(state, obs);
    assert.ok(s >= 0 && s <= 1, `score ${s} for ${JSON.stringify(obs.values)} is outside [0, 1]`);
    scores.push(s);
    const why = model.explain(state, obs);
    for (const v of Object.values(why)) assert.ok(v >= 0 && Number.isFinite(v), `explain weight ${v} must be finite and ≥ 0`);
  }
  return scores;
}

/** Rank of `scores[index]` among all scores (0 = highest). */
export function rankOf(scores: readonly number[], index: number): number {
  const target = scores[index]!;
  return scores.filter((s) => s > target).length;
}
