/**
 * Reading a model descriptor at a boundary (the `models` topic, the model store, a file): every field
 * is checked, and each failure is a typed error whose message names the descriptor and the JSON path.
 *
 * Order of checks: JSON syntax and structure (MODEL_INVALID; an unknown `format` is
 * MODEL_UNKNOWN_FORMAT) → kind and format against the registry (MODEL_UNKNOWN_KIND,
 * MODEL_UNKNOWN_FORMAT) → payload size (MODEL_TOO_LARGE) → checksum of an inline payload
 * (MODEL_CHECKSUM_MISMATCH; a referenced payload is checked when it is read, by the loader) → the
 * caller's feature expectations (MODEL_FEATURE_MISMATCH) → signature (MODEL_INVALID) → the
 * parameters, by the detector factory's `fromParams` (MODEL_INVALID).
 */
import { ErrorCode, SluiceError, isSluiceError } from '../errors.ts';
import { canonicalJson, canonicalJsonBytes } from '../util/canonical-json.ts';
import { isSha256Hex, sha256Hex } from '../util/sha256.ts';
import type { DetectorFactory, DetectorModel, JsonValue } from './types.ts';
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  ModelFormat,
  ONNX_FACTORY_KIND,
  signedBytes,
  type ModelDescriptor,
} from './descriptor.ts';

/** Registry of detector factories by kind (see src/model/registry.ts). */
export type DetectorRegistry = ReadonlyMap<string, DetectorFactory>;

/** Options of {@link parseDescriptor}. */
export interface ParseDescriptorOptions {
  /** Known detector kinds (usually `detectorFactories` from src/model/registry.ts). */
  readonly registry: DetectorRegistry;
  /** Largest payload accepted, in bytes. Default 64 MiB. */
  readonly maxPayloadBytes?: number;
  /** Metric names the caller will feed the model. Default: not checked. */
  readonly expectFeatures?: readonly string[];
  /**
   * How `expectFeatures` is compared: `exact` (default) wants the same names in the same order;
   * `subset` wants every metric of the model to be among them (the caller has at least those).
   */
  readonly featureMatch?: 'exact' | 'subset';
  /** Windowing the caller expects (compared as canonical JSON); `null` means none. Default: not checked. */
  readonly expectWindow?: JsonValue;
  /** Build the model from its inline native parameters to check them. Default true. */
  readonly validateParams?: boolean;
  /**
   * When given, a signature is required and must verify: called with the descriptor and the bytes
   * it signs (see `signedBytes`).
   */
  readonly verifySignature?: (descriptor: ModelDescriptor, signed: Uint8Array) => boolean;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/;
const KIND = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_FEATURES = 10_000;
const MAX_METRIC_NAME = 256;
const TOP_FIELDS = new Set([
  'name', 'version', 'kind', 'format', 'payload', 'sha256', 'features', 'createdAt', 'trainedOn', 'metrics', 'settings', 'signature',
]);

/**
 * Parses and validates a descriptor (JSON text or an already parsed value); see the file comment
 * for what is checked and which error each failure gives. Returns the descriptor, unchanged.
 */
export function parseDescriptor(json: unknown, options: ParseDescriptorOptions): ModelDescriptor {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (cause) {
      throw new SluiceError(ErrorCode.MODEL_INVALID, `model descriptor: not valid JSON: ${(cause as Error).message}`, { cause, details: { path: '/' } });
    }
  }
  const d = checkDescriptorStructure(value);
  checkDescriptorAgainst(d, options);
  if (options.validateParams !== false && d.format === ModelFormat.NATIVE && d.payload.type === 'json') {
    instantiateNative(d, d.payload.params, options.registry);
  }
  return d;
}

/**
 * The checks of {@link parseDescriptor} after the structure, except building the model: registry,
 * size, inline checksum, features, signature. Used by the loader.
 */
export function checkDescriptorAgainst(d: ModelDescriptor, options: ParseDescriptorOptions): void {
  const max = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (!Number.isSafeInteger(max) || max < 0) {
    throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `maxPayloadBytes must be a non-negative integer, got ${String(max)}`);
  }
  factoryFor(d, options.registry);
  const inline = inlinePayloadBytes(d, max);
  if (d.payload.type === 'ref' && d.payload.size > max) {
    throw fail(ErrorCode.MODEL_TOO_LARGE, d, '/payload/size', `${d.payload.size} bytes is over the limit of ${max} bytes`);
  }
  if (inline !== null) {
    const actual = sha256Hex(inline);
    if (actual !== d.sha256) {
      throw fail(ErrorCode.MODEL_CHECKSUM_MISMATCH, d, '/sha256', `payload hashes to ${actual}, the descriptor says ${d.sha256}`);
    }
  }
  checkFeatures(d, options);
  if (options.verifySignature !== undefined) {
    if (d.signature === undefined) throw fail(ErrorCode.MODEL_INVALID, d, '/signature', 'a signature is required');
    let ok = false;
    try {
      ok = options.verifySignature(d, signedBytes(d));
    } catch (cause) {
      throw fail(ErrorCode.MODEL_INVALID, d, '/signature', `verification failed: ${(cause as Error).message}`, cause);
    }
    if (!ok) throw fail(ErrorCode.MODEL_INVALID, d, '/signature', 'does not verify');
  }
}

/**
 * The factory that builds `d`: the registry's factory for `d.kind` (native) or for kind `onnx`
 * (onnx format). MODEL_UNKNOWN_KIND / MODEL_UNKNOWN_FORMAT when there is none.
 */
export function factoryFor(d: ModelDescriptor, registry: DetectorRegistry): DetectorFactory {
  if (d.format === ModelFormat.ONNX) {
    const factory = registry.get(ONNX_FACTORY_KIND);
    if (factory === undefined) {
      throw fail(ErrorCode.MODEL_UNKNOWN_FORMAT, d, '/format', `no factory for 'onnx' models is registered (kind '${ONNX_FACTORY_KIND}'); this build cannot load ONNX models`);
    }
    return factory;
  }
  const factory = registry.get(d.kind);
  if (factory === undefined) {
    const known = [...registry.keys()].filter((k) => k !== ONNX_FACTORY_KIND).sort();
    throw fail(ErrorCode.MODEL_UNKNOWN_KIND, d, '/kind', `unknown detector kind '${d.kind}'; known kinds: ${known.join(', ') || '(none)'}`, undefined, { known });
  }
  return factory;
}

/**
 * The bytes of an inline payload (the canonical JSON of native params, or decoded base64), or null
 * for a reference. MODEL_TOO_LARGE over `max` bytes.
 */
export function inlinePayloadBytes(d: ModelDescriptor, max = DEFAULT_MAX_PAYLOAD_BYTES): Uint8Array | null {
  const p = d.payload;
  if (p.type === 'ref') return null;
  if (p.type === 'base64') {
    const size = (p.data.length / 4) * 3 - (p.data.endsWith('==') ? 2 : p.data.endsWith('=') ? 1 : 0);
    if (size > max) throw fail(ErrorCode.MODEL_TOO_LARGE, d, '/payload/data', `${size} bytes is over the limit of ${max} bytes`);
    return new Uint8Array(Buffer.from(p.data, 'base64'));
  }
  let bytes: Uint8Array;
  try {
    bytes = canonicalJsonBytes(p.params);
  } catch (cause) {
    throw fail(ErrorCode.MODEL_INVALID, d, '/payload/params', (cause as Error).message, cause);
  }
  if (bytes.byteLength > max) {
    throw fail(ErrorCode.MODEL_TOO_LARGE, d, '/payload/params', `${bytes.byteLength} bytes is over the limit of ${max} bytes`);
  }
  return bytes;
}

/**
 * Builds a native model from its parameters with the registry's factory: MODEL_INVALID when the
 * factory rejects them (its message kept), or when the model's kind or features disagree with `d`.
 */
export function instantiateNative(d: ModelDescriptor, params: unknown, registry: DetectorRegistry): DetectorModel {
  const factory = factoryFor(d, registry);
  let model: DetectorModel;
  try {
    model = factory.fromParams(params, d.features.metrics);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw fail(ErrorCode.MODEL_INVALID, d, '/payload', `parameters rejected by the '${d.kind}' factory: ${reason}`, cause);
  }
  checkModelMatches(d, model, true);
  return model;
}

/** MODEL_INVALID / MODEL_FEATURE_MISMATCH when a built model disagrees with its descriptor. */
export function checkModelMatches(d: ModelDescriptor, model: DetectorModel, checkKind: boolean): void {
  if (checkKind && model.kind !== d.kind) {
    throw fail(ErrorCode.MODEL_INVALID, d, '/kind', `the factory built a '${model.kind}' model`);
  }
  if (!sameList(model.features, d.features.metrics)) {
    throw fail(ErrorCode.MODEL_FEATURE_MISMATCH, d, '/features/metrics', `the model reads [${model.features.join(', ')}], the descriptor says [${d.features.metrics.join(', ')}]`);
  }
}

function checkFeatures(d: ModelDescriptor, options: ParseDescriptorOptions): void {
  const expected = options.expectFeatures;
  if (expected !== undefined) {
    const mode = options.featureMatch ?? 'exact';
    if (mode !== 'exact' && mode !== 'subset') {
      throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `featureMatch must be 'exact' or 'subset', got ${JSON.stringify(mode)}`);
    }
    if (mode === 'exact' && !sameList(d.features.metrics, expected)) {
      throw fail(ErrorCode.MODEL_FEATURE_MISMATCH, d, '/features/metrics', `the model reads [${d.features.metrics.join(', ')}], expected [${expected.join(', ')}]`, undefined, { expected: [...expected] });
    }
    if (mode === 'subset') {
      const have = new Set(expected);
      const missing = d.features.metrics.filter((m) => !have.has(m));
      if (missing.length > 0) {
        throw fail(ErrorCode.MODEL_FEATURE_MISMATCH, d, '/features/metrics', `the model reads metrics that are not available: ${missing.join(', ')}`, undefined, { missing });
      }
    }
  }
  if (options.expectWindow !== undefined) {
    const actual = d.features.window === undefined ? 'null' : canonicalJson(d.features.window);
    const want = canonicalJson(options.expectWindow);
    if (actual !== want) throw fail(ErrorCode.MODEL_FEATURE_MISMATCH, d, '/features/window', `is ${actual}, expected ${want}`);
  }
}

/**
 * Checks the shape of a descriptor (types, name and kind rules, version ≥ 1, payload matching the
 * format, times, training range, metrics, no unknown fields) and returns it typed. MODEL_INVALID
 * naming the path; MODEL_UNKNOWN_FORMAT for a format other than `native` or `onnx`.
 */
export function checkDescriptorStructure(value: unknown): ModelDescriptor {
  const label = labelOf(value);
  const bad = (path: string, reason: string, code: ErrorCode = ErrorCode.MODEL_INVALID): never => {
    throw new SluiceError(code, `model descriptor ${label}: ${path}: ${reason}`, { details: { path } });
  };
  if (!isPlainObject(value)) return bad('/', `must be an object, got ${typeName(value)}`);
  for (const key of Object.keys(value)) if (!TOP_FIELDS.has(key)) bad(`/${key}`, 'unknown field');
  const v = value;
  if (typeof v.name !== 'string' || !NAME.test(v.name)) bad('/name', `must be 1-128 characters of a-z, A-Z, 0-9, '.', '_', '-' starting with a letter or digit, got ${show(v.name)}`);
  if (!isInt(v.version) || v.version < 1) bad('/version', `must be an integer ≥ 1, got ${show(v.version)}`);
  if (typeof v.kind !== 'string' || !KIND.test(v.kind)) bad('/kind', `must be 1-64 characters of a-z, A-Z, 0-9, '.', '_', '-' starting with a letter or digit, got ${show(v.kind)}`);
  if (v.format !== ModelFormat.NATIVE && v.format !== ModelFormat.ONNX) {
    bad('/format', `unknown format ${show(v.format)}; known formats: native, onnx`, ErrorCode.MODEL_UNKNOWN_FORMAT);
  }
  checkPayload(v.payload, v.format as string, bad);
  if (!isSha256Hex(v.sha256)) bad('/sha256', `must be 64 lowercase hex digits, got ${show(v.sha256)}`);
  checkFeatureShape(v.features, bad);
  if (!isInt(v.createdAt) || v.createdAt < 0) bad('/createdAt', `must be a non-negative integer (ms since the epoch), got ${show(v.createdAt)}`);
  checkTrainedOn(v.trainedOn, v.version as number, bad);
  if (!isPlainObject(v.metrics)) bad('/metrics', `must be an object, got ${typeName(v.metrics)}`);
  for (const [k, n] of Object.entries(v.metrics as Record<string, unknown>)) {
    if (k === '') bad('/metrics', 'metric names must not be empty');
    if (typeof n !== 'number' || !Number.isFinite(n)) bad(`/metrics/${k}`, `must be a finite number, got ${show(n)}`);
  }
  if (v.settings !== undefined) {
    if (!isPlainObject(v.settings)) bad('/settings', `must be an object, got ${typeName(v.settings)}`);
    checkJson(v.settings, '/settings', bad);
  }
  if (v.signature !== undefined) {
    const s = v.signature;
    if (!isPlainObject(s)) return bad('/signature', `must be an object, got ${typeName(s)}`);
    for (const key of Object.keys(s)) if (key !== 'algorithm' && key !== 'keyId' && key !== 'value') bad(`/signature/${key}`, 'unknown field');
    for (const key of ['algorithm', 'keyId', 'value'] as const) {
      if (typeof s[key] !== 'string' || s[key] === '') bad(`/signature/${key}`, `must be a non-empty string, got ${show(s[key])}`);
    }
  }
  return value as unknown as ModelDescriptor;
}

type Bad = (path: string, reason: string, code?: ErrorCode) => never;

function checkPayload(p: unknown, format: string, bad: Bad): void {
  if (!isPlainObject(p)) return bad('/payload', `must be an object, got ${typeName(p)}`);
  const allowed: Record<string, readonly string[]> = { json: ['type', 'params'], base64: ['type', 'data'], ref: ['type', 'uri', 'size'] };
  const fields = typeof p.type === 'string' ? allowed[p.type] : undefined;
  if (fields === undefined) return bad('/payload/type', `must be 'json', 'base64' or 'ref', got ${show(p.type)}`);
  for (const key of Object.keys(p)) if (!fields.includes(key)) bad(`/payload/${key}`, `unknown field for a '${String(p.type)}' payload`);
  if (p.type === 'json') {
    if (format !== ModelFormat.NATIVE) bad('/payload/type', `a '${format}' model cannot have a 'json' payload (use 'base64' or 'ref')`);
    if (!('params' in p)) bad('/payload/params', 'is missing');
    checkJson(p.params, '/payload/params', bad);
  } else if (p.type === 'base64') {
    if (format !== ModelFormat.ONNX) bad('/payload/type', `a '${format}' model cannot have a 'base64' payload (use 'json' or 'ref')`);
    if (typeof p.data !== 'string' || !BASE64.test(p.data)) bad('/payload/data', 'must be a base64 string (RFC 4648, padded)');
  } else {
    if (typeof p.uri !== 'string' || !p.uri.startsWith('file:') || p.uri.length <= 'file:'.length) {
      bad('/payload/uri', `must be a file: URI (file:relative/path or file:///absolute/path), got ${show(p.uri)}`);
    }
    if (!isInt(p.size) || p.size < 0) bad('/payload/size', `must be a non-negative integer, got ${show(p.size)}`);
  }
}

function checkFeatureShape(f: unknown, bad: Bad): void {
  if (!isPlainObject(f)) return bad('/features', `must be an object, got ${typeName(f)}`);
  for (const key of Object.keys(f)) if (key !== 'metrics' && key !== 'window') bad(`/features/${key}`, 'unknown field');
  const m = f.metrics;
  if (!Array.isArray(m) || m.length === 0 || m.length > MAX_FEATURES) {
    return bad('/features/metrics', `must be an array of 1-${MAX_FEATURES} metric names, got ${Array.isArray(m) ? `${m.length} names` : typeName(m)}`);
  }
  const seen = new Set<string>();
  m.forEach((name: unknown, i) => {
    if (typeof name !== 'string' || name === '' || name.length > MAX_METRIC_NAME) bad(`/features/metrics/${i}`, `must be a string of 1-${MAX_METRIC_NAME} characters, got ${show(name)}`);
    if (seen.has(name as string)) bad(`/features/metrics/${i}`, `duplicate metric ${show(name)}`);
    seen.add(name as string);
  });
  if (f.window !== undefined) {
    if (!isPlainObject(f.window)) bad('/features/window', `must be an object, got ${typeName(f.window)}`);
    checkJson(f.window, '/features/window', bad);
  }
}

function checkTrainedOn(t: unknown, version: number, bad: Bad): void {
  if (!isPlainObject(t)) return bad('/trainedOn', `must be an object, got ${typeName(t)}`);
  for (const key of Object.keys(t)) if (!['from', 'to', 'records', 'parentVersion'].includes(key)) bad(`/trainedOn/${key}`, 'unknown field');
  for (const key of ['from', 'to'] as const) {
    if (t[key] !== null && !isInt(t[key])) bad(`/trainedOn/${key}`, `must be an integer (ms since the epoch) or null, got ${show(t[key])}`);
  }
  if ((t.from === null) !== (t.to === null)) bad('/trainedOn', '`from` and `to` must both be null or both be set');
  if (t.from !== null && (t.from as number) > (t.to as number)) bad('/trainedOn/from', `${show(t.from)} is after to (${show(t.to)})`);
  if (!isInt(t.records) || t.records < 0) bad('/trainedOn/records', `must be a non-negative integer, got ${show(t.records)}`);
  if (t.parentVersion !== null && (!isInt(t.parentVersion) || t.parentVersion < 1 || t.parentVersion >= version)) {
    bad('/trainedOn/parentVersion', `must be null or an integer in 1..${version - 1}, got ${show(t.parentVersion)}`);
  }
}

/** Rejects what JSON cannot carry (objects built in code rather than parsed). */
function checkJson(value: unknown, path: string, bad: Bad): void {
  try {
    canonicalJson(value);
  } catch (cause) {
    bad(path, (cause as Error).message.replace(/^\$/, ''));
  }
}

/** An error for descriptor `d` at `path`. */
export function fail(
  code: ErrorCode,
  d: ModelDescriptor,
  path: string,
  reason: string,
  cause?: unknown,
  details: Record<string, unknown> = {},
): SluiceError {
  const keep = isSluiceError(cause) ? { ...cause.details } : {};
  return new SluiceError(code, `model descriptor '${d.name}' v${d.version}: ${path}: ${reason}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { ...keep, ...details, name: d.name, version: d.version, path },
  });
}

function labelOf(value: unknown): string {
  if (!isPlainObject(value)) return '(unnamed)';
  const name = typeof value.name === 'string' ? `'${value.name.slice(0, 140)}'` : '(unnamed)';
  return typeof value.version === 'number' ? `${name} v${value.version}` : name;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(v);
  }
}
