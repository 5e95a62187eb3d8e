/**
 * The fast path of the telemetry contract check (telemetry.ts): a predicate that is true only for
 * records that meet the contract (skew aside), allocates nothing and throws nothing. Whatever it
 * does not pass goes to the exact check, which finds and reports the breach — so the screen may
 * say "not sure" (an inherited enumerable property, too many entries) but never passes a bad record.
 *
 * Records of one kind repeat their metric names and tags, often as the very same strings (the
 * binary codec's string caches), so the screen remembers, per position, the last names and tag
 * strings that passed their checks under its limits: a repeat costs one comparison instead of the
 * length and Unicode checks. The memory is bounded ({@link MEMO_SLOTS} positions).
 */
import { isRecord } from '../../util/is-record.ts';
import type { TelemetryLimits } from './telemetry.ts';

/** Positions of metric names and tags remembered (later positions are checked every time). */
const MEMO_SLOTS = 32;

/** True for the names of the fields of the telemetry record. */
export function isField(key: string): boolean {
  return key === 'deviceId' || key === 'ts' || key === 'metrics' || key === 'seq' || key === 'tags';
}

/** The screen of one validator (its limits and its memory of names that passed). */
export class TelemetryScreen {
  readonly #limits: TelemetryLimits;
  readonly #names: (string | undefined)[] = new Array<string | undefined>(MEMO_SLOTS).fill(undefined);
  readonly #tagNames: (string | undefined)[] = new Array<string | undefined>(MEMO_SLOTS).fill(undefined);
  readonly #tagValues: (string | undefined)[] = new Array<string | undefined>(MEMO_SLOTS).fill(undefined);

  constructor(limits: TelemetryLimits) {
    this.#limits = limits;
  }

  /** True when `value` certainly meets the contract, apart from the skew of its `ts`. */
  passes(value: unknown): value is { readonly ts: number } {
    if (!isRecord(value)) return false;
    for (const key in value) if (!isField(key)) return false;
    const { deviceId, ts, metrics, seq, tags } = value as Record<string, unknown>;
    const limits = this.#limits;
    if (typeof deviceId !== 'string' || deviceId === '' || deviceId.length > limits.maxDeviceIdLength || !deviceId.isWellFormed()) return false;
    if (!Number.isSafeInteger(ts)) return false;
    if (seq !== undefined && !(Number.isSafeInteger(seq) && (seq as number) >= 0)) return false;
    if (!isRecord(metrics) || !this.#metricsPass(metrics)) return false;
    return tags === undefined || (isRecord(tags) && this.#tagsPass(tags));
  }

  #metricsPass(metrics: Record<string, unknown>): boolean {
    const memo = this.#names;
    const max = this.#limits.maxNameLength;
    let n = 0;
    for (const name in metrics) {
      const v = metrics[name];
      if (typeof v !== 'number' || v - v !== 0) return false;
      if (n >= MEMO_SLOTS || memo[n] !== name) {
        if (!goodString(name, max, false)) return false;
        if (n < MEMO_SLOTS) memo[n] = name;
      }
      n++;
    }
    return n <= this.#limits.maxMetrics;
  }

  #tagsPass(tags: Record<string, unknown>): boolean {
    const names = this.#tagNames;
    const values = this.#tagValues;
    const { maxNameLength, maxTagValueLength } = this.#limits;
    let n = 0;
    for (const name in tags) {
      const v = tags[name];
      if (n >= MEMO_SLOTS || names[n] !== name || values[n] !== v) {
        if (typeof v !== 'string' || !goodString(name, maxNameLength, false) || !goodString(v, maxTagValueLength, true)) return false;
        if (n < MEMO_SLOTS) {
          names[n] = name;
          values[n] = v;
        }
      }
      n++;
    }
    return n <= this.#limits.maxTags;
  }
}

function goodString(s: string, max: number, allowEmpty: boolean): boolean {
  return (allowEmpty || s !== '') && s.length <= max && s.isWellFormed();
}
