/**
 * Reading observations into a fixed-order numeric vector, with the one rule every detector shares:
 * a metric that is missing, not a number, NaN or ±Infinity is read as NaN ("unknown"), and each
 * detector documents what it does with unknowns.
 */
import type { Observation } from '../../types.ts';

/**
 * Writes `obs.values[features[i]]` into `out[i]` (NaN when missing or non-finite) and returns how many
 * were finite. Allocates nothing.
 */
export function readValues(obs: Observation, features: readonly string[], out: Float64Array): number {
  const values = obs.values;
  let finite = 0;
  for (let i = 0; i < features.length; i++) {
    const v = values[features[i]!];
    if (typeof v === 'number' && v - v === 0) {
      out[i] = v;
      finite++;
    } else {
      out[i] = NaN;
    }
  }
  return finite;
}

/** Every metric name seen in `history`, sorted (the default feature list of a fit). */
export function metricsOf(history: readonly Observation[]): string[] {
  const names = new Set<string>();
  for (const obs of history) for (const name of Object.keys(obs.values)) names.add(name);
  return [...names].sort();
}
