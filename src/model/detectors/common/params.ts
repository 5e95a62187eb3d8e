/**
 * Validation helpers for detector parameters and hyperparameters: every failure is a MODEL_INVALID
 * SluiceError whose message names the detector, the field's path and the reason.
 */
import { ErrorCode, SluiceError } from '../../../errors.ts';
import { propertyKey } from '../../../util/property-key.ts';

/** Builds the MODEL_INVALID error for `path` (e.g. `/halfLife`) of detector `kind`. */
export function invalid(kind: string, path: string, reason: string): SluiceError {
  return new SluiceError(ErrorCode.MODEL_INVALID, `${kind}: ${path} ${reason}`, { details: { kind, path } });
}

/** Short, safe description of a bad value for error messages. */
function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return String(value);
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Asserts `value` is a plain object (not null, not an array). */
export function requireObject(kind: string, path: string, value: unknown): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(kind, path, `must be an object, got ${show(value)}`);
  return value as Readonly<Record<string, unknown>>;
}

/** Bounds for {@link requireNumber}. */
export interface NumberRule {
  readonly min?: number;
  readonly max?: number;
  /** Exclusive lower bound instead of inclusive. */
  readonly minExclusive?: boolean;
  readonly integer?: boolean;
}

/** Asserts `value` is a finite number within `rule`. */
export function requireNumber(kind: string, path: string, value: unknown, rule: NumberRule = {}): number {
  const what = rule.integer === true ? 'an integer' : 'a finite number';
  const bounds: string[] = [];
  if (rule.min !== undefined) bounds.push(`${rule.minExclusive === true ? '>' : '≥'} ${rule.min}`);
  if (rule.max !== undefined) bounds.push(`≤ ${rule.max}`);
  const need = bounds.length > 0 ? `${what} ${bounds.join(' and ')}` : what;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(kind, path, `must be ${need}, got ${show(value)}`);
  if (rule.integer === true && !Number.isInteger(value)) throw invalid(kind, path, `must be ${need}, got ${show(value)}`);
  if (rule.min !== undefined && (rule.minExclusive === true ? value <= rule.min : value < rule.min)) throw invalid(kind, path, `must be ${need}, got ${show(value)}`);
  if (rule.max !== undefined && value > rule.max) throw invalid(kind, path, `must be ${need}, got ${show(value)}`);
  return value;
}

/** Asserts `value` is an array of `length` finite numbers (each within `rule`). */
export function requireNumbers(kind: string, path: string, value: unknown, length: number, rule: NumberRule = {}): Float64Array {
  if (!Array.isArray(value)) throw invalid(kind, path, `must be an array of ${length} numbers, got ${show(value)}`);
  if (value.length !== length) throw invalid(kind, path, `must have ${length} entries, got ${value.length}`);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = requireNumber(kind, `${path}/${i}`, value[i], rule);
  return out;
}

/**
 * Asserts `features` is a non-empty list of distinct, non-empty metric names; returns them frozen,
 * as property keys (util/property-key.ts: reading them out of observations is then cheaper).
 */
export function requireFeatures(kind: string, features: unknown): readonly string[] {
  if (!Array.isArray(features) || features.length === 0) throw invalid(kind, '/features', `must be a non-empty array of metric names, got ${show(features)}`);
  const seen = new Set<string>();
  for (let i = 0; i < features.length; i++) {
    const name: unknown = features[i];
    if (typeof name !== 'string' || name.length === 0) throw invalid(kind, `/features/${i}`, `must be a non-empty string, got ${show(name)}`);
    if (seen.has(name)) throw invalid(kind, `/features/${i}`, `repeats metric ${JSON.stringify(name)}`);
    seen.add(name);
  }
  return Object.freeze((features as string[]).map(propertyKey));
}

/** Asserts the object has no keys outside `allowed` (catches misspelt hyperparameters). */
export function rejectUnknownKeys(kind: string, path: string, value: Readonly<Record<string, unknown>>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw invalid(kind, `${path}/${key}`, `is not a known field (known: ${allowed.join(', ')})`);
  }
}
