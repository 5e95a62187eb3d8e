/**
 * Reading observations into a fixed-order numeric vector, with the one rule every detector shares:
 * a metric that is missing, not a number, NaN or ±Infinity is read as NaN ("unknown"), and each
 * detector documents what it does with unknowns.
 */
import type { Observation } from '../../types.ts';

/**
 * Writes `obs.values[features[i]]` into `out[i]` (NaN when missing or non-finite) and returns how many
 * were finite. Allocates nothing. The first eight reads have a load site each: observations of one
 * kind of device have the same shape, so each site sees one name and one shape and stays fast
 * (one site reading every name would look each up in a shared cache).
 */
export function readValues(obs: Observation, features: readonly string[], out: Float64Array): number {
  const values = obs.values;
  const n = features.length;
  if (n > 0) out[0] = known(values[features[0]!]);
  if (n > 1) out[1] = known(values[features[1]!]);
  if (n > 2) out[2] = known(values[features[2]!]);
  if (n > 3) out[3] = known(values[features[3]!]);
  if (n > 4) out[4] = known(values[features[4]!]);
  if (n > 5) out[5] = known(values[features[5]!]);
  if (n > 6) out[6] = known(values[features[6]!]);
  if (n > 7) out[7] = known(values[features[7]!]);
  for (let i = 8; i < n; i++) out[i] = known(values[features[i]!]);
  let finite = 0;
  for (let i = 0; i < n; i++) if (out[i] === out[i]) finite++;
  return finite;
}

/** `v` if it is a finite number, else NaN (unknown). */
function known(v: unknown): number {
  return typeof v === 'number' && v - v === 0 ? v : NaN;
}

/** Every metric name seen in `history`, sorted (the default feature list of a fit). */
export function metricsOf(history: readonly Observation[]): string[] {
  const names = new Set<string>();
  for (const obs of history) for (const name of Object.keys(obs.values)) names.add(name);
  return [...names].sort();
}
