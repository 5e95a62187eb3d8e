/**
 * The telemetry record of DESIGN.md §3 (value of the `telemetry` topic) and the check of its data
 * contract, used at the ingestion boundary and by the validated telemetry codec.
 */
import { ErrorCode, SluiceError } from '../../errors.ts';
import { describe } from './codec.ts';
import { isRecord } from '../../util/is-record.ts';
import { isField, TelemetryScreen } from './telemetry-screen.ts';
import { type Validator, validationError } from './validation.ts';

/** One reading of one device: event time, named metric values and optional sequence and tags. */
export interface Telemetry {
  /** The device that sent it; also the record key. */
  readonly deviceId: string;
  /** Event time, ms since the epoch. */
  readonly ts: number;
  /** Metric name → finite number. */
  readonly metrics: Readonly<Record<string, number>>;
  /** Per-device sequence number (for dedup), a non-negative integer. */
  readonly seq?: number;
  /** Free-form labels: name → string. */
  readonly tags?: Readonly<Record<string, string>>;
}

/** Limits of {@link validateTelemetry}; unset fields take {@link TELEMETRY_LIMITS}. */
export interface TelemetryValidationOptions {
  /** Longest device id, in UTF-16 code units. */
  readonly maxDeviceIdLength?: number;
  /** Most metrics in one record. */
  readonly maxMetrics?: number;
  /** Longest metric name or tag name, in UTF-16 code units. */
  readonly maxNameLength?: number;
  /** Most tags in one record. */
  readonly maxTags?: number;
  /** Longest tag value, in UTF-16 code units. */
  readonly maxTagValueLength?: number;
  /** Largest allowed |ts − now| in ms; no skew check when unset. Needs `now`. */
  readonly maxSkewMs?: number;
  /** The current time in ms (or a clock giving it), for the skew check. */
  readonly now?: number | (() => number);
}

/** Default limits of the telemetry contract. */
export const TELEMETRY_LIMITS = {
  maxDeviceIdLength: 256,
  maxMetrics: 1024,
  maxNameLength: 128,
  maxTags: 64,
  maxTagValueLength: 1024,
} as const;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Throws CODEC_VALIDATION, with a message naming the path (`metrics.temp must be a finite number,
 * got NaN`), unless `value` meets the telemetry contract: an object with only the fields of
 * {@link Telemetry}; a non-empty deviceId; ts a safe integer (within `maxSkewMs` of `now` when
 * set); metrics finite numbers with non-empty names; seq a non-negative safe integer; tags strings;
 * every string valid Unicode and every count and length within the limits. Options that make no
 * sense throw INVALID_ARGUMENT.
 */
export function validateTelemetry(value: unknown, options: TelemetryValidationOptions = {}): asserts value is Telemetry {
  const limits = resolveLimits(options);
  check(value, limits, new TelemetryScreen(limits));
}

/** A {@link Validator} of the telemetry contract with fixed options (checked once, here). */
export function telemetryValidator(options: TelemetryValidationOptions = {}): Validator<Telemetry> {
  const limits = resolveLimits(options);
  const screen = new TelemetryScreen(limits);
  return (value) => check(value, limits, screen);
}

/** The resolved limits of a validator. */
export type TelemetryLimits = Required<Omit<TelemetryValidationOptions, 'maxSkewMs' | 'now'>> & {
  readonly maxSkewMs: number | undefined;
  readonly now: (() => number) | undefined;
};

function resolveLimits(options: TelemetryValidationOptions): TelemetryLimits {
  const limits: Record<keyof typeof TELEMETRY_LIMITS, number> = { ...TELEMETRY_LIMITS };
  for (const key of Object.keys(TELEMETRY_LIMITS) as (keyof typeof TELEMETRY_LIMITS)[]) {
    const n = options[key] ?? TELEMETRY_LIMITS[key];
    if (!Number.isSafeInteger(n) || n < 1) invalidOption(key, `must be an integer ≥ 1, got ${describe(n)}`);
    limits[key] = n;
  }
  const { maxSkewMs, now } = options;
  if (maxSkewMs !== undefined && !(typeof maxSkewMs === 'number' && maxSkewMs >= 0)) {
    invalidOption('maxSkewMs', `must be a number ≥ 0, got ${describe(maxSkewMs)}`);
  }
  if (maxSkewMs !== undefined && now === undefined) invalidOption('now', 'is required with maxSkewMs');
  if (now !== undefined && typeof now !== 'function' && !Number.isFinite(now)) {
    invalidOption('now', `must be a finite number or a function, got ${describe(now)}`);
  }
  return { ...limits, maxSkewMs, now: typeof now === 'number' ? () => now : now };
}

function invalidOption(path: string, reason: string): never {
  throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `telemetry validation options: ${path} ${reason}`, {
    details: { path },
  });
}

/**
 * Checks `value`: records that the screen passes (the common case) only get the skew check; any
 * other value gets {@link checkExactly}, which throws the error of the first breach in contract
 * order — so every bad record gets the same error whichever way it came.
 */
function check(value: unknown, limits: TelemetryLimits, screen: TelemetryScreen): void {
  if (screen.passes(value)) checkSkew(value.ts, limits);
  else checkExactly(value, limits);
}

function checkExactly(value: unknown, limits: TelemetryLimits): void {
  if (!isRecord(value)) throw validationError('', `telemetry record must be an object, got ${describe(value)}`);
  for (const key of Object.keys(value)) {
    if (!isField(key)) throw validationError(key, 'is not a telemetry field (deviceId, ts, metrics, seq, tags)');
  }
  const { deviceId, ts, metrics, seq, tags } = value;
  checkString('deviceId', deviceId, limits.maxDeviceIdLength);
  if (!Number.isSafeInteger(ts)) throw validationError('ts', `must be a finite integer (ms since epoch), got ${describe(ts)}`);
  checkSkew(ts as number, limits);
  if (seq !== undefined && !(Number.isSafeInteger(seq) && (seq as number) >= 0)) {
    throw validationError('seq', `must be a non-negative integer, got ${describe(seq)}`);
  }
  if (!isRecord(metrics)) throw validationError('metrics', `must be an object, got ${describe(metrics)}`);
  const names = Object.keys(metrics);
  if (names.length > limits.maxMetrics) throw validationError('metrics', `has ${names.length} entries, at most ${limits.maxMetrics} allowed`);
  for (const name of names) {
    checkName('metrics', name, limits.maxNameLength);
    const v = metrics[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw validationError(fieldPath('metrics', name), `must be a finite number, got ${describe(v)}`);
  }
  if (tags === undefined) return;
  if (!isRecord(tags)) throw validationError('tags', `must be an object, got ${describe(tags)}`);
  const keys = Object.keys(tags);
  if (keys.length > limits.maxTags) throw validationError('tags', `has ${keys.length} entries, at most ${limits.maxTags} allowed`);
  for (const key of keys) {
    checkName('tags', key, limits.maxNameLength);
    checkString(fieldPath('tags', key), tags[key], limits.maxTagValueLength, true);
  }
}

function checkSkew(ts: number, limits: TelemetryLimits): void {
  if (limits.maxSkewMs === undefined || limits.now === undefined) return;
  const skew = ts - limits.now();
  if (Math.abs(skew) > limits.maxSkewMs) {
    const side = skew > 0 ? 'ahead of' : 'behind';
    throw validationError('ts', `is ${Math.abs(skew)} ms ${side} now (max skew ${limits.maxSkewMs} ms)`);
  }
}

/** Checks the name of entry `name` of `parent` (metrics or tags); builds the path only to throw. */
function checkName(parent: string, name: string, max: number): void {
  if (name === '') throw validationError(fieldPath(parent, name), 'name must not be empty');
  if (name.length > max) throw validationError(fieldPath(parent, name), `name is ${name.length} characters long, at most ${max} allowed`);
  if (!name.isWellFormed()) throw validationError(fieldPath(parent, name), 'name is not valid Unicode (lone surrogate)');
}

function checkString(path: string, value: unknown, max: number, allowEmpty = false): void {
  if (typeof value !== 'string') throw validationError(path, `must be a string, got ${describe(value)}`);
  if (value === '' && !allowEmpty) throw validationError(path, 'must not be empty');
  if (value.length > max) throw validationError(path, `is ${value.length} characters long, at most ${max} allowed`);
  if (!value.isWellFormed()) throw validationError(path, 'is not valid Unicode (lone surrogate)');
}

/** `metrics.temp`, or `metrics["a b"]` when the name is not an identifier. */
export function fieldPath(parent: string, name: string): string {
  return IDENTIFIER.test(name) ? `${parent}.${name}` : `${parent}[${JSON.stringify(name)}]`;
}

