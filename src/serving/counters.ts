/**
 * Instance-wide counters of the scoring service (per-model counters live in each model's
 * `ModelStats`). Plain numbers, incremented on the hot path; `/metrics`, `/models` and
 * `handle.metrics()` read them.
 */
import { DlqReason } from './telemetry-check.ts';

/** Why a model descriptor was rejected (the current model keeps serving). */
export const RejectReason = {
  invalid: 'invalid',
  unknownKind: 'unknown-kind',
  checksum: 'checksum',
  tooLarge: 'too-large',
  features: 'features',
  payloadMissing: 'payload-missing',
  load: 'load',
  probe: 'probe',
  keyMismatch: 'key-mismatch',
} as const;
/** One of {@link RejectReason}. */
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

/** Why a valid descriptor was not taken (not an error: nothing was wrong with it). */
export const IgnoreReason = {
  /** Its version is not above the one served (and it is no rollback). */
  notNewer: 'not-newer',
  /** A shadow candidate whose version is not above the live model's. */
  shadowNotNewer: 'shadow-not-newer',
} as const;
/** One of {@link IgnoreReason}. */
export type IgnoreReason = (typeof IgnoreReason)[keyof typeof IgnoreReason];

/** What happened to a device's learnt state when the model scoring it changed (state.ts). */
export const CarryOver = {
  /** Same kind and features: the learnt state and the decider carried over. */
  kept: 'kept',
  /** Another kind or other features (or nothing before): a fresh state, warming up again. */
  fresh: 'fresh',
  /** State of the same model version restored from the changelog. */
  restored: 'restored',
  /** The device's shadow state of exactly this version became its live state (promotion). */
  adopted: 'adopted',
  /** Saved or carried state the model would not take (a failed `stateFromJSON`): fresh. */
  reset: 'reset',
} as const;
/** One of {@link CarryOver}. */
export type CarryOver = (typeof CarryOver)[keyof typeof CarryOver];

function zeros<K extends string>(keys: Record<string, K>): Record<K, number> {
  return Object.fromEntries(Object.values(keys).map((k) => [k, 0])) as Record<K, number>;
}

/** The counters of one serving instance. */
export class ServingCounters {
  /** Telemetry records that passed the checks. */
  records = 0;
  /** Valid records with no live model that applies (passed over, not an error). */
  unrouted = 0;
  /** Records sent to the dead-letter topic, by reason (`scoring`: the model failed on it). */
  readonly dlq: Record<DlqReason | 'scoring', number> = { ...zeros(DlqReason), scoring: 0 };
  readonly rejections: Record<RejectReason, number> = zeros(RejectReason);
  readonly ignored: Record<IgnoreReason, number> = zeros(IgnoreReason);
  /** Models put into service (first loads, upgrades, rollbacks, shadows), by name. */
  readonly swaps = new Map<string, number>();
  readonly carryOver: Record<CarryOver, number> = zeros(CarryOver);

  /** Counts a model put into service under `name`. */
  swapped(name: string): void {
    this.swaps.set(name, (this.swaps.get(name) ?? 0) + 1);
  }
}
